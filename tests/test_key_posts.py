"""The key-post page: flagging a post and signing the review of its nominations, through the browser forms."""

from __future__ import annotations

from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from jishi.core.testing import PASSWORD, SIGNING_PIN, World
from jishi.ledger.models import Event, Signature
from jishi.selection.models import Batch
from jishi.supervision.models import KeyPostReview


def client_for(user) -> Client:
    client = Client()
    assert client.login(request=HttpRequest(), username=user.username, password=PASSWORD)
    return client


def test_a_section_head_flags_a_key_post_with_a_reason(world: World, batch: Batch):
    position = world.positions[1]
    response = client_for(world.bob).post(
        reverse("key_post_flag", args=[position.pk]), {"is_key_post": "1", "reason": "财政资金集中"}
    )
    assert response.status_code == 302
    position.refresh_from_db()
    assert position.is_key_post
    event = Event.objects.get(action="position.key_post")
    assert event.actor == world.bob and "财政资金集中" in event.payload


def test_flagging_without_a_reason_is_refused_and_shown(world: World, batch: Batch):
    position = world.positions[1]
    response = client_for(world.bob).post(reverse("key_post_flag", args=[position.pk]), {"is_key_post": "1"})
    assert response.status_code == 400 and "请说明" in response.content.decode()
    position.refresh_from_db()
    assert not position.is_key_post


def test_a_clerk_cannot_flag_a_key_post(world: World, batch: Batch):
    response = client_for(world.alice).post(
        reverse("key_post_flag", args=[world.positions[1].pk]), {"is_key_post": "1", "reason": "试图设定"}
    )
    assert response.status_code == 403
    assert not Event.objects.filter(action="position.key_post").exists()


def test_the_supervisor_signs_the_review_on_the_page(world: World, batch: Batch):
    position = world.positions[1]
    position.is_key_post = True
    position.save()
    nomination = batch.nominations.get(position=position)
    erin = client_for(world.erin)
    page = erin.get(reverse("key_posts")).content.decode()
    assert nomination.cadre.name in page and "签字提交" in page
    wrong = erin.post(
        reverse("key_post_review", args=[nomination.pk]), {"approved": "1", "opinion": "同意启动", "pin": "000000"}
    )
    assert wrong.status_code == 400 and "同意启动" in wrong.content.decode()
    assert not KeyPostReview.objects.exists()
    erin.post(
        reverse("key_post_review", args=[nomination.pk]), {"approved": "1", "opinion": "同意启动", "pin": SIGNING_PIN}
    )
    review = KeyPostReview.objects.get(nomination=nomination)
    assert review.approved and Signature.objects.filter(event__hash=review.event_hash, signer="erin").exists()


def test_a_county_supervisor_sees_no_city_positions(world: World, batch: Batch):
    page = client_for(world.grace).get(reverse("key_posts")).content.decode()
    assert world.positions[1].unit_name not in page
