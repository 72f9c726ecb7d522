"""Wrapper and stream-shape tricks from published research: the pickle is hidden by its container or
by what follows it. The whole pipeline runs (format detection, containers, the pickle machine).
"""

from __future__ import annotations

import struct
from pathlib import Path

from malhug.analyzers.api import scan_bytes
from malhug.core.model import Category, FileReport, Verdict
from tests.advisories.helpers import ECHO, caught_in
from tests.builders import evasions
from tests.builders.pickles import call, payload_ops, pickle_of
from tests.builders.torchfiles import poisoned_torch_zip
from tests.builders.wrappers import sevenzip, zip_of
from tests.pickle.helpers import summary

EVASION_ECHO = evasions.ECHO


def _scan(data: bytes, name: str) -> FileReport:
    return scan_bytes(data, name=name)


def _system(report: FileReport, shown: str = EVASION_ECHO) -> None:
    f = caught_in(report, "MH101", Category.COMMAND_EXEC, "os.system", evidence=shown)
    assert f.location.member is not None or f.location.offset is not None


def test_nullifai_payload_before_broken_stream(tmp_path: Path) -> None:
    """ReversingLabs "nullifAI" (https://www.reversinglabs.com/blog/rl-identifies-malware-ml-model-hosted-on-hugging-face):
    the payload runs at the start, then the stream breaks; scanners that need a valid pickle fail open."""
    report = _scan(evasions.payload_before_broken_stream(tmp_path), "model.pkl")
    _system(report)
    assert "MH901" in {f.rule for f in report.findings}, summary(report)


def test_nullifai_7z_wrapped_torch_file(tmp_path: Path) -> None:
    """ReversingLabs "nullifAI": the PyTorch file is 7z-compressed, which torch.load-based tools do not open
    (picklescan added 7z in https://github.com/mmaitre314/picklescan/pull/35)."""
    _system(_scan(evasions.sevenzip_wrapped(tmp_path), "pytorch_model.bin"))


def test_nullifai_broken_stream_inside_7z() -> None:
    """ReversingLabs "nullifAI": both tricks at once (7z, then a stream broken after the payload)."""
    broken = b"\x80\x02" + payload_ops([call("posix.system", ECHO)], 2) + b"\xff"
    report = _scan(sevenzip("archive/data.pkl", broken), "model.7z")
    _system(report, ECHO)


def test_cve_2025_1945_zip_flag_bits(tmp_path: Path) -> None:
    """CVE-2025-1945 (picklescan): general-purpose flag bits set on a torch zip member made Python's
    zipfile refuse the archive while torch still loads it."""
    _system(_scan(evasions.zip_flag_bits(tmp_path), "pytorch_model.bin"))


def test_cve_2025_10156_zip_bad_crc(tmp_path: Path) -> None:
    """CVE-2025-10156 (JFrog, picklescan): a wrong CRC on data.pkl makes zipfile raise, torch ignores it."""
    _system(_scan(evasions.zip_bad_crc(tmp_path), "pytorch_model.bin"))


def test_cve_2025_1889_pickle_member_with_unusual_extension() -> None:
    """CVE-2025-1889 (picklescan): a pickle inside a zip under a name that is not .pkl/.pt was skipped
    (fixed by sniffing member magic bytes, picklescan commit baf03fa)."""
    data = zip_of({"weights/config.txt": pickle_of([call("os.system", ECHO)], protocol=2)})
    _system(_scan(data, "model.zip"), ECHO)


def test_cve_2025_10155_pickle_named_like_a_torch_file() -> None:
    """CVE-2025-10155 (JFrog, picklescan): a plain pickle named .bin/.pt was routed to the torch reader
    by extension and failed there; format is decided from the bytes here."""
    report = _scan(pickle_of([call("os.system", ECHO)], protocol=4), "pytorch_model.bin")
    _system(report, ECHO)


def test_truncated_stream_after_payload() -> None:
    """modelscan stops at a truncated stream (measured: modelscan 0.8.8 reports "Parsing error ... opcode
    unknown" on broken_after_payload.pkl, bench/models/RESULTS.md): a stream truncated after the payload;
    the call before the cut is reported, then MH901."""
    data = b"\x80\x02" + payload_ops([call("os.system", ECHO)], 2) + b"X\xff\x00\x00\x00abc"
    report = _scan(data, "model.pkl")
    _system(report, ECHO)
    assert report.verdict is Verdict.MALICIOUS and "MH901" in {f.rule for f in report.findings}


def test_numpy_object_array_holds_a_pickle() -> None:
    """picklescan scan_numpy (NumPy object arrays): an .npy of dtype '|O' whose body is a pickle that
    np.load(allow_pickle=True) unpickles."""
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    data = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + pickle_of([call("os.system", ECHO)], 2)
    _system(_scan(data, "array.npy"), ECHO)


def test_numpy_object_array_inside_npz() -> None:
    """picklescan commit 670efbb ("Handle .npz Numpy files"): the object-array .npy inside an .npz."""
    header = b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
    header += b" " * (63 - (10 + len(header)) % 64) + b"\n"
    npy = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + pickle_of([call("os.system", ECHO)], 2)
    _system(_scan(zip_of({"arr_0.npy": npy}), "arrays.npz"), ECHO)


def test_payload_after_joblib_raw_array(tmp_path: Path) -> None:
    """pickletools.genops stops at joblib's raw array blocks, so scanners built on it miss what follows
    (measured: picklescan and modelscan error out on joblib_after_array.joblib, bench/models/RESULTS.md):
    the payload placed after a NumPy array block of a real joblib.dump is still found."""
    _system(_scan(evasions.joblib_after_array(tmp_path), "model.joblib"))


def test_cve_2025_1944_zip_local_name_differs_from_central_directory() -> None:
    """CVE-2025-1944 (picklescan): the local header names data.pkl differently from the central directory;
    Python's zipfile refuses the member, torch reads it by its central-directory entry."""
    data = bytearray(poisoned_torch_zip("archive", [call("posix.system", ECHO)]))
    name = b"archive/data.pkl"
    at = data.find(name, 0)
    assert at > 0 and data[at - 30 : at - 26] == b"PK\x03\x04"
    data[at : at + len(name)] = b"archive/data.pkX"
    _system(_scan(bytes(data), "pytorch_model.bin"), ECHO)
