# lit configuration for the Flash tests: flash-opt / flash-run + FileCheck.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "FLASH"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.flash_obj_root, "test")
config.excludes = ["lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt", "python", "Inputs"]

llvm_config.use_default_substitutions()
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
llvm_config.add_tool_substitutions(
    ["flash-opt", "flash-run"], [config.flash_tools_dir])
# Before the default %python (lit's own interpreter, which may lack numpy).
config.substitutions.insert(0, ("%python", config.python_executable))
# flash-run's compile cache goes to the build tree, not the user's home.
config.environment["FLASH_CACHE_DIR"] = os.path.join(config.flash_obj_root, "test-cache")
