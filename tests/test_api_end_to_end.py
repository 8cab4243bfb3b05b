"""The API from a new batch to a verified archive package — what docs/api.md shows with curl.

The 43 middle steps are walked through the services (the step endpoints have their own tests); creation,
the last step, filing, signing and export go through the API as the scripts of an office would.
"""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jishi.archives.models import Volume, VolumeStatus
from jishi.core.testing import SIGNING_PIN
from jishi.ledger.models import Event
from jishi.selection.walk import sample_values, walk
from jishi.verify import verify_package
from tests.api_helpers import ApiClient

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n160\n%%EOF\n"
)


def test_a_batch_goes_from_creation_to_a_verified_archive_through_the_api(world, tmp_path):
    alice, frank, bob = ApiClient(world.alice), ApiClient(world.frank), ApiClient(world.bob)
    status, batch = alice.post(
        "/batches",
        {
            "unit": "J001",
            "title": "接口办理的批次",
            "kind": "routine",
            "reason": "职位空缺",
            "position_ids": [world.positions[0].pk],
        },
        key="e2e-batch",
    )
    assert status == 201
    status, nomination = alice.post(
        f"/batches/{batch['id']}/nominations", {"cadre_id": world.cadres[0].pk, "position_id": world.positions[0].pk}
    )
    assert status == 201
    from jishi.selection.models import Batch

    b = Batch.objects.get(pk=batch["id"])
    walk(batch=b, actor=world.alice, signers=world.signers(), pin=SIGNING_PIN, stop=lambda s, n: s == "R06")
    status, available = alice.get(f"/batches/{b.pk}/available-steps")
    assert [(a["step_id"], a["nomination_id"]) for a in available["items"]] == [("R06", nomination["id"])]

    status, record = alice.post(f"/batches/{b.pk}/steps/R06/start", {"nomination_id": nomination["id"]})
    assert status == 201
    rid = record["id"]
    data = sample_values(b.procedure.definition.step("R06"), timezone.localdate())
    assert alice.put(f"/records/{rid}/data", {"data": data})[0] == 200
    files = {"file": SimpleUploadedFile("正式任职通知.pdf", PDF, content_type="application/pdf")}
    status, material = alice.post(
        f"/records/{rid}/materials",
        {"item_id": "I36", "title": "试用期满考核材料及正式任职通知", "pages": 1},
        files=files,
    )
    assert status == 201 and len(material["sha256"]) == 64
    _, current = alice.get(f"/records/{rid}")
    for who, role in ((alice, "clerk"), (bob, "section_head")):
        assert (
            who.post(
                f"/records/{rid}/confirm", {"role": role, "pin": SIGNING_PIN, "seen_revision": current["revision"]}
            )[0]
            == 201
        )
    assert alice.post(f"/records/{rid}/complete")[0] == 200

    status, built = frank.post(f"/archives/batches/{b.pk}/build")
    assert status == 201 and sorted(v["kind"] for v in built) == ["batch", "personal"]
    for volume in built:
        assert frank.post(f"/archives/volumes/{volume['id']}/organize", {"pin": SIGNING_PIN, "notes": ""})[0] == 200
        assert bob.post(f"/archives/volumes/{volume['id']}/accept", {"pin": SIGNING_PIN})[0] == 200
    assert Volume.objects.filter(batch=b, status=VolumeStatus.ARCHIVED).count() == 2

    status, response = frank.get(f"/archives/batches/{b.pk}/export")
    assert status == 200 and response["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))) as package:
        package.extractall(tmp_path)
    root = next(tmp_path.glob("*/bagit.txt")).parent  # the ZIP holds one folder named after the package
    report = verify_package(str(root))
    assert report.passed, report.to_text()
    assert material["sha256"] in (root / "data" / "metadata.xml").read_text(encoding="utf-8")
    assert Event.objects.filter(action="archive.volume_export", actor=world.frank).count() == 2
