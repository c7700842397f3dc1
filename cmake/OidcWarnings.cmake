# Warnings for this project's own targets only, never for parents: a global -Werror is what
# packagers end up patching out.
function(oidc_enable_warnings target)
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
    if(OIDC_WERROR)
      target_compile_options(${target} PRIVATE -Werror)
    endif()
  elseif(MSVC)
    target_compile_options(${target} PRIVATE /W4 $<$<BOOL:${OIDC_WERROR}>:/WX>)
  endif()
endfunction()
