"""Issue #16, over stdio against the fake Hub: a pin is offered only for a revision that scans clean.

On a repository whose every revision is malicious (and ships code, so the unpinned-code rule fires
too), no quick fix may pin the revision just scanned (test_e2e_hub.py covers the pin to an older
clean revision of a repository poisoned at its head).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lsprotocol import types

from tests.fakehub import FakeHub
from tests.server.conftest import evil_pickle
from tests.server.harness import open_doc, server_env, start_client, stop_client, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]

CODE = 'from transformers import AutoModel\n\nm = AutoModel.from_pretrained("org/allbad", trust_remote_code=True)\n'
AUTO_MAP = '{"auto_map": {"AutoModel": "modeling_x.XModel"}}'


@pytest.mark.fires("MH707", "MH710")
async def test_no_pin_is_offered_when_every_revision_is_malicious(tmp_path: Path) -> None:
    with FakeHub(tmp_path / "hub") as hub:
        repo = hub.repo("org/allbad")
        repo.commit(
            {"config.json": AUTO_MAP, "modeling_x.py": "class XModel: pass\n", "pytorch_model.bin": evil_pickle()}
        )
        head = repo.commit({"pytorch_model.bin": evil_pickle() + b" "}, title="again")
        client = await start_client(tmp_path, env=server_env(tmp_path, HF_ENDPOINT=hub.endpoint))
        try:
            uri = open_doc(client, tmp_path / "ws" / "app.py", CODE)

            def flagged() -> list[types.Diagnostic]:
                diags = client.diagnostics.get(uri, [])
                found = {d.code for d in diags}
                return diags if {"MH707", "MH710"} <= found else []

            diags = await wait_for(flagged, what="MH707 and MH710 on org/allbad")
            hub_diags = [d for d in diags if d.code in ("MH707", "MH710")]
            assert all(d.data["scanned_sha"] == head for d in hub_diags)
            actions = await client.text_document_code_action_async(
                types.CodeActionParams(
                    text_document=types.TextDocumentIdentifier(uri=uri),
                    range=hub_diags[0].range,
                    context=types.CodeActionContext(diagnostics=hub_diags),
                )
            )
            titles = [a.title for a in actions or [] if isinstance(a, types.CodeAction)]
            assert "MalHug: Remove trust_remote_code=True" in titles
            assert not [t for t in titles if "Pin revision" in t], titles
            assert head not in str(titles)
        finally:
            await stop_client(client)
