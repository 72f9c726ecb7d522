"""Package discovery for the folder mapping declared in pyproject.toml.

Every package below src/, analyzers/ and server/ is listed, so a new subpackage can never be
missing from the wheel (tests/test_packaging.py builds the wheel and checks).
"""

from setuptools import find_packages, setup

MAPPED = {"malhug.analyzers": "analyzers", "malhug.server": "server"}

packages = find_packages("src")
package_dir = {"": "src"}
for name, folder in MAPPED.items():
    packages.append(name)
    package_dir[name] = folder
    for sub in find_packages(folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
