# Engine tests: Podman, Docker through oci-shm-runtime, Kubernetes-shaped pods
# and the shim's own argument handling (tests/integration/test_{podman,docker,
# pods,runtime_shim}.sh, helpers in engines/). The glob in CMakeLists.txt
# registers them as integration.NAME; this adds the shim's path and the
# "engines" label.
foreach(name podman docker pods runtime_shim)
  set_property(TEST integration.${name} APPEND
               PROPERTY ENVIRONMENT "OCI_SHM_RUNTIME_BIN=$<TARGET_FILE:oci-shm-runtime>")
  set_property(TEST integration.${name} APPEND PROPERTY LABELS "engines")
endforeach()
