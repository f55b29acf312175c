# Use ccache when it is installed: rebuilds on two cores are mostly cache hits.
find_program(KDC_CCACHE ccache)
if(KDC_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_C_COMPILER_LAUNCHER "${KDC_CCACHE}")
  set(CMAKE_CXX_COMPILER_LAUNCHER "${KDC_CCACHE}")
  set(CMAKE_CUDA_COMPILER_LAUNCHER "${KDC_CCACHE}")
endif()
