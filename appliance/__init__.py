"""OCS/AAA/PCRF network appliance."""
from .compiled import install as _install_compiled

__version__ = "0.1.0"
_install_compiled()      # a compiled module's source runs instead when forced or newer (compiled.py)
