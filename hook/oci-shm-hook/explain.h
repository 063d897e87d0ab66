/* SPDX-License-Identifier: Apache-2.0 */
/* The admin's commands over a policy: check it, and explain a decision. */
#pragma once

#include "options.h"

/* `check`: print every problem as FILE:LINE: message; 0 valid, 1 invalid. */
int run_check(const struct options *o);

/* `explain`: the decision for --image/... or for a bundle, as the hook would take it. */
int run_explain(const struct options *o);
