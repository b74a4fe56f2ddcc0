# Project code builds with -Wall -Wextra as errors and -Werror=switch, so a new
# event kind or exit reason forces every switch over it to be updated (DESIGN.md §9).
function(virtscope_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Werror -Werror=switch
    -Wno-unused-parameter)
endfunction()
