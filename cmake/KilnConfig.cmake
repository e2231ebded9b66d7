# KilnConfig.cmake: find_package(Kiln) gives Kiln::runtime (libkiln_runtime.so and kiln/runtime.h),
# Kiln::kilnc, and kiln_add_model(), which compiles a model ahead of time at build time.
include("${CMAKE_CURRENT_LIST_DIR}/KilnTargets.cmake")

# kiln_add_model(TARGET MODEL.json [TRAIN] [NAME name] [TARGET_CPU cpu] [PARAMS file.safetensors])
#
# Runs `kilnc compile` on MODEL.json when it (or kilnc) changes, adds the object to TARGET, puts
# the generated header (named after NAME, default the model file's stem) on TARGET's include
# path, and links TARGET with Kiln::runtime (and libm). TRAIN compiles the train steps too.
function(kiln_add_model target model)
  cmake_parse_arguments(ARG "TRAIN" "NAME;TARGET_CPU;PARAMS" "" ${ARGN})
  if(ARG_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "kiln_add_model: unknown arguments ${ARG_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(model_path "${model}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
  get_filename_component(stem "${model}" NAME_WE)
  set(file_name "${stem}")
  set(args "")
  if(ARG_NAME)
    set(file_name "${ARG_NAME}")
    list(APPEND args --name "${ARG_NAME}")
  endif()
  if(ARG_TRAIN)
    list(APPEND args --train)
  endif()
  if(ARG_TARGET_CPU)
    list(APPEND args --target-cpu "${ARG_TARGET_CPU}")
  endif()
  set(depends "${model_path}")
  if(ARG_PARAMS)
    get_filename_component(params_path "${ARG_PARAMS}" ABSOLUTE BASE_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
    list(APPEND args --params "${params_path}")
    list(APPEND depends "${params_path}")
  endif()
  set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/kiln_models/${target}")
  set(object "${out_dir}/${file_name}.o")
  set(header "${out_dir}/${file_name}.h")
  file(MAKE_DIRECTORY "${out_dir}")
  add_custom_command(
    OUTPUT "${object}" "${header}"
    COMMAND Kiln::kilnc compile "${model_path}" -o "${object}" --header "${header}" ${args}
    DEPENDS ${depends} Kiln::kilnc
    COMMENT "kilnc compile ${model}"
    VERBATIM)
  set_source_files_properties("${object}" PROPERTIES EXTERNAL_OBJECT TRUE GENERATED TRUE)
  target_sources(${target} PRIVATE "${object}" "${header}")
  target_include_directories(${target} PRIVATE "${out_dir}")
  target_link_libraries(${target} PRIVATE Kiln::runtime)
endfunction()
