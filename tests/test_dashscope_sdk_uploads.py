"""The official ``dashscope`` SDK (2.0.2) uploads local files to DashScope's temporary storage on
the real mock server (its ``OssUtils.upload``: the policy call, then the form to the upload host),
and a try-on on the ``oss://`` URLs it got runs to SUCCEEDED through ``BaseAsyncApi``."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from dashscope.client.base_api import BaseAsyncApi
from dashscope.common.error import UploadFileException
from dashscope.utils.oss_utils import OssUtils

from mock_server.assets import asset_bytes
from mock_server.testing import Tenant
from tests.helpers import png_of
from tests.test_dashscope_sdk import SYNTHESIS, VENDOR, sdk

pytestmark = pytest.mark.usefixtures("loopback_only")
RESOLVE = {"X-DashScope-OssResourceResolve": "enable"}


def local_file(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(asset_bytes(name))
    return str(path)


def test_the_sdk_uploads_local_files_and_tries_them_on(
    tryon_mock: Tenant, tmp_path: Path, http: httpx.Client
) -> None:
    tryon_mock.timing(VENDOR, progress="polls:2")
    target = sdk(tryon_mock)
    person, certificate = OssUtils.upload(
        model="aitryon", file_path=local_file(tmp_path, "person.png"), **target
    )
    top, _ = OssUtils.upload(
        model="aitryon",
        file_path=local_file(tmp_path, "top.png"),
        upload_certificate=certificate,  # the SDK reuses one policy for several files
        **target,
    )
    assert person == f"oss://{certificate['upload_dir']}/person.png"
    assert top.startswith("oss://dashscope-instant/")

    submitted = BaseAsyncApi.async_call(
        model="aitryon",
        input={"person_image_url": person, "top_garment_url": top},
        headers=RESOLVE,
        **SYNTHESIS,
        **target,
    )
    assert submitted.status_code == 200, submitted
    done = BaseAsyncApi.wait(submitted, **target)
    assert done.status_code == 200, done
    assert done.output["task_status"] == "SUCCEEDED", done
    assert png_of(http.get(done.output["image_url"])).size == (768, 1024)  # the uploaded person's size

    journal = tryon_mock.journal(VENDOR)
    assert [e["endpoint"] for e in journal[:3]] == ["uploads-policy", "oss-upload", "oss-upload"]
    assert journal[0]["query"] == "action=getPolicy&model=aitryon"
    assert journal[1]["params"]["key"] == person.removeprefix("oss://")


def test_the_sdk_reports_a_refused_upload(tryon_mock: Tenant, tmp_path: Path) -> None:
    """A file over the model's limit: the upload host refuses it, and the SDK raises the OSS error."""
    big = tmp_path / "big.png"
    big.write_bytes(b"\0" * (6 * 1024 * 1024))
    with pytest.raises(UploadFileException, match="EntityTooLarge"):
        OssUtils.upload(model="aitryon", file_path=str(big), **sdk(tryon_mock))
