# Engine tests: Podman, Docker through oci-shm-runtime, Kubernetes-shaped pods
# and the shim's own argument handling (tests/integration/test_{podman,docker,
# pods,runtime_shim}.sh, helpers in engines/). They need oci-shm-runtime too.
# The glob in CMakeLists.txt registers them as integration.NAME; this adds the
# shim's path and the "engines" label, or registers them when nothing did.
find_program(BASH_PROGRAM bash REQUIRED)
foreach(name podman docker pods runtime_shim)
  if(NOT TEST integration.${name})
    add_test(NAME integration.${name}
             COMMAND ${BASH_PROGRAM} ${CMAKE_CURRENT_SOURCE_DIR}/test_${name}.sh)
    set_tests_properties(
      integration.${name}
      PROPERTIES ENVIRONMENT "OCI_SHM_HOOK_BIN=$<TARGET_FILE:oci-shm-hook>"
                 SKIP_RETURN_CODE 77
                 LABELS "integration"
                 RUN_SERIAL TRUE
                 TIMEOUT 300)
  endif()
  set_property(TEST integration.${name} APPEND
               PROPERTY ENVIRONMENT "OCI_SHM_RUNTIME_BIN=$<TARGET_FILE:oci-shm-runtime>")
  set_property(TEST integration.${name} APPEND PROPERTY LABELS "engines")
endforeach()
