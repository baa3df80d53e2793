"""runwatch: status of Metaflow runs on AWS Batch and Step Functions, kept from the events AWS emits.

Importing it first lets dataclasses use the methods compiled when the layer was built (dataclass_bytecode), so
every class a function's cold start creates after this line skips compiling them.
"""

from runwatch import dataclass_bytecode

dataclass_bytecode.install()
