# A package, so that pytest imports these modules as unit_py.<name> and a test file here may
# share its name with one in tests/conformance (test_pauses.py is in both).
