# `cmake --install`: the runtime library, kiln/runtime.h, kilnc, kiln-runtime.pc and the CMake
# package (find_package(Kiln), kiln_add_model). Layout: PREFIX/{bin,lib,include} (docs/aot.md).
include(CMakePackageConfigHelpers)

# Programs that link an AOT object need libm too: generated kernels call tanh, erf, log1p, pow.
target_link_libraries(kiln_runtime_shared INTERFACE m)
set_target_properties(kiln_runtime_shared PROPERTIES EXPORT_NAME runtime)
# kilnc finds Debian's libLLVM through the path it was linked with, wherever it is installed.
set_target_properties(kilnc PROPERTIES INSTALL_RPATH_USE_LINK_PATH TRUE)

install(TARGETS kiln_runtime_shared EXPORT KilnTargets
        LIBRARY DESTINATION lib ARCHIVE DESTINATION lib INCLUDES DESTINATION include)
install(TARGETS kilnc EXPORT KilnTargets RUNTIME DESTINATION bin)
install(FILES ${PROJECT_SOURCE_DIR}/runtime/include/kiln/runtime.h DESTINATION include/kiln)
install(EXPORT KilnTargets NAMESPACE Kiln:: DESTINATION lib/cmake/Kiln)

configure_file(${CMAKE_CURRENT_LIST_DIR}/kiln-runtime.pc.in
               ${PROJECT_BINARY_DIR}/kiln-runtime.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kiln-runtime.pc DESTINATION lib/pkgconfig)

write_basic_package_version_file(${PROJECT_BINARY_DIR}/KilnConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/KilnConfig.cmake
              ${PROJECT_BINARY_DIR}/KilnConfigVersion.cmake
        DESTINATION lib/cmake/Kiln)
