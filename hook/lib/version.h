/* SPDX-License-Identifier: Apache-2.0 */
/* The version both programs print; CMake sets it from the project's. */
#pragma once

#ifndef OCI_SHM_HOOK_VERSION
#define OCI_SHM_HOOK_VERSION "0.0.0"
#endif
