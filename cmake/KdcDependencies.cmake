# Finds every dependency of kdc. All of them come from Debian packages
# (tools/install-deps.sh installs them); CUDA and cuDNN are optional.

list(APPEND CMAKE_PREFIX_PATH "${KDC_LLVM_PREFIX}")

find_package(MLIR REQUIRED CONFIG)
if(NOT LLVM_VERSION_MAJOR EQUAL 19)
  message(FATAL_ERROR "kdc needs LLVM/MLIR 19; found ${LLVM_PACKAGE_VERSION} (set KDC_LLVM_PREFIX)")
endif()
message(STATUS "kdc: MLIR ${LLVM_PACKAGE_VERSION} from ${MLIR_DIR}")
if(NOT EXISTS "${LLVM_EXTERNAL_LIT}")
  message(FATAL_ERROR "lit not found at ${LLVM_EXTERNAL_LIT}; install llvm-19-tools or set LLVM_EXTERNAL_LIT")
endif()
find_program(KDC_FILECHECK FileCheck HINTS "${KDC_LLVM_PREFIX}/bin" NO_DEFAULT_PATH REQUIRED)

find_package(antlr4-runtime REQUIRED CONFIG)
find_program(KDC_ANTLR4 antlr4 REQUIRED)
find_package(Java COMPONENTS Runtime)

find_package(nlohmann_json 3 REQUIRED CONFIG)
# Debian builds oneDNN with its OpenCL GPU runtime, so its config needs
# OpenCL headers (ocl-icd-opencl-dev) even though kdc uses only the CPU engine.
find_package(dnnl REQUIRED CONFIG)
find_package(ZLIB REQUIRED)
find_package(PNG REQUIRED)
find_package(JPEG REQUIRED)
find_package(Threads REQUIRED)
find_package(OpenMP)
find_package(GTest CONFIG)

find_package(Python3 REQUIRED COMPONENTS Interpreter)

# The GPU target builds only when the CUDA toolkit and cuDNN are both present.
set(KDC_HAVE_CUDA OFF)
if(KDC_ENABLE_CUDA)
  if(NOT CMAKE_CUDA_COMPILER AND EXISTS "/usr/local/cuda/bin/nvcc")
    set(CMAKE_CUDA_COMPILER "/usr/local/cuda/bin/nvcc")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    find_package(CUDAToolkit)
    find_path(KDC_CUDNN_INCLUDE cudnn.h HINTS ${CUDAToolkit_INCLUDE_DIRS})
    find_library(KDC_CUDNN_LIBRARY cudnn HINTS ${CUDAToolkit_LIBRARY_DIR})
    if(CUDAToolkit_FOUND AND KDC_CUDNN_INCLUDE AND KDC_CUDNN_LIBRARY)
      set(KDC_HAVE_CUDA ON)
    endif()
  endif()
endif()
message(STATUS "kdc: GPU (cuDNN) backend: ${KDC_HAVE_CUDA}")
