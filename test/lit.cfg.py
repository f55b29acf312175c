# lit configuration of the kdc test suite.
import os
import lit.formats

config.name = "kdc"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".kd", ".mlir", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.kdc_obj_root, "test")
config.excludes = ["Inputs", "unit", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]

# The tools under test come first, then FileCheck and `not` from LLVM.
config.environment["PATH"] = os.pathsep.join(
    [config.kdc_tools_dir, config.llvm_tools_dir, config.environment.get("PATH", os.environ["PATH"])])
# The stdlib of the source tree, so tests do not depend on an install.
config.environment["KDC_STDLIB"] = os.path.join(config.kdc_src_root, "stdlib")

config.substitutions.append(("%src_root", config.kdc_src_root))
config.substitutions.append(("%stdlib", os.path.join(config.kdc_src_root, "stdlib")))
config.substitutions.append(("%python", config.python_executable))

if config.have_cuda:
    config.available_features.add("cuda")

# Recipe smoke tests read the Fashion-MNIST files of the Debian package
# dataset-fashion-mnist, where the stdlib recipes expect them.
if os.path.exists("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz"):
    config.available_features.add("fashion-mnist")

# The Python interop tests (test/interop) need the virtual environment that
# test/interop/make-venv.sh creates in the build directory (CTest runs it as
# the `interop-venv` fixture): Debian's torch and numpy plus safetensors.
def _interop_python():
    import subprocess
    venv = os.path.join(config.kdc_obj_root, "pyenv")
    python = os.path.join(venv, "bin", "python")
    if not os.access(python, os.X_OK) or os.path.exists(os.path.join(venv, "unavailable")):
        return None
    probe = "import safetensors.numpy, safetensors.torch, torch, numpy"
    try:
        subprocess.run([python, "-c", probe], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return python

_pyenv_python = _interop_python()
if _pyenv_python:
    config.available_features.add("python-interop")
    config.substitutions.append(("%pyenv_python", _pyenv_python))
