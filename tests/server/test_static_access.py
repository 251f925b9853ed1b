"""A request may name a distilled static model in home()/models as static:NAME, never by path."""

from __future__ import annotations

from pathlib import Path

import pytest

from embedlab.errors import AccessDeniedError
from embedlab.server.access import AccessPolicy, trained_dir


def test_static_name_opens_the_trained_folder_and_paths_are_refused(tmp_path: Path) -> None:
    policy = AccessPolicy()
    folder = trained_dir() / "m2v-test"
    folder.mkdir(parents=True, exist_ok=True)
    assert policy.model("static:m2v-test") == f"static:{folder}"
    with pytest.raises(AccessDeniedError, match="no trained model 'nope'"):
        policy.model("static:nope")
    for name in (f"static:{tmp_path}", "static:../x", str(tmp_path), "./m2v"):
        with pytest.raises(AccessDeniedError):
            policy.model(name)
    assert policy.model("minilm-static") == "minilm-static"
