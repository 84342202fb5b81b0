# Embeds files into the binary at build time as byte arrays (regenerated when a file
# changes). The generated .cpp defines a table of moerag::EmbeddedFile (core/embedded.h).
#   moerag_embed(VAR FILE)                 -> ${VAR}_SRC, one file, table named VAR
#   moerag_embed_dir(VAR ROOT "FILES")     -> ${VAR}_SRC, paths relative to ROOT
function(moerag_embed_dir var root files)
  set(out ${PROJECT_BINARY_DIR}/generated/${var}.cpp)
  string(REPLACE ";" "|" files_arg "${files}")
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out} -DNAME=${var} -DROOT=${root} "-DFILES=${files_arg}"
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    DEPENDS ${files} ${PROJECT_SOURCE_DIR}/cmake/embed_files.cmake
    COMMENT "Embedding ${var}" VERBATIM)
  set(${var}_SRC ${out} PARENT_SCOPE)
endfunction()

function(moerag_embed var file)
  get_filename_component(root ${file} DIRECTORY)
  moerag_embed_dir(${var} ${root} "${file}")
  set(${var}_SRC ${${var}_SRC} PARENT_SCOPE)
endfunction()
