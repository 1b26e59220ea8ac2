import os
import sys

# catalogue_cases.py is a data module next to the tests
sys.path.insert(0, os.path.dirname(__file__))
