"""What the format packages share, so that none of them imports another.

Belongs here: byte sources and bounded readers over them (``source``, ``slices``, ``sourceio``,
``ziparchive``), the protobuf wire reader (``protobuf``), text decoding (``text``), constant
de-obfuscation (``deobf``), path checks (``paths``) and the vocabulary of embedded-code assessment
(``embedded``). A module belongs here when two format packages need it and it knows no format's
semantics; nothing here imports a format package.
"""
