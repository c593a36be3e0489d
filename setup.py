"""The one thing pyproject.toml cannot say: the top-level notebooks/ folder ships inside the
package as ``commstoolkit/notebooks`` (a real folder in the wheel, no symlink), so
``commstoolkit demo`` finds them once installed; and the package data beside it (the sandbox's
copy of the official schemas). Everything else is in pyproject.toml."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["commstoolkit", "commstoolkit.*"]), "commstoolkit.notebooks"],
    package_dir={"commstoolkit.notebooks": "notebooks"},
    package_data={
        "commstoolkit": ["py.typed"],
        "commstoolkit.notebooks": ["*.ipynb"],
        # the official schemas the sandbox validates against, with their NOTICE
        "commstoolkit.sandbox.contract": ["schemas.json", "events_openapi.json", "NOTICE"],
    },
)
