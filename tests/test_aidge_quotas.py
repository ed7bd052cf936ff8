"""Aidge's trial and purchased quotas through HTTP, in-process: each submit uses its image count
from the pool of its call (the x-iop-trial header), per API path; an exhausted pool answers no
resource while the other works; a refused request uses nothing; the balance needs an API path."""

from __future__ import annotations

from tests.aidge_rig import APP_KEY, BALANCE, CONTRACT, PRO, STANDARD, STD_OP, VENDOR, Aidge, item, refused
from tests.helpers import asset

# -- quotas --------------------------------------------------------------------------------------


def test_each_submit_uses_its_image_count_from_the_pool_of_its_call(aidge: Aidge) -> None:
    trial, purchased = CONTRACT.quota["trial"], CONTRACT.quota["purchased"]
    assert (aidge.balance(), aidge.balance(trial=False)) == (trial, purchased)
    aidge.task_id([item(generateCount=3)])
    assert (aidge.balance(), aidge.balance(trial=False)) == (trial - 3, purchased)
    aidge.task_id([item(generateCount=5, modelImage=[asset("person.png")] * 2)])
    assert aidge.balance() == trial - 5
    aidge.task_id([item()], trial=False)
    assert (aidge.balance(), aidge.balance(trial=False)) == (trial - 5, purchased - STD_OP.results)
    aidge.task_id([item(generateCount=1), item(generateCount=2)], trial=False)
    assert aidge.balance(trial=False) == purchased - STD_OP.results - 3
    # Each API path has its own counters.
    aidge.task_id(item(generateCount=2), PRO)
    assert (aidge.balance(PRO), aidge.balance()) == (trial - 2, trial - 5)


def test_an_exhausted_pool_answers_no_resource_while_the_other_works(aidge: Aidge) -> None:
    low = {"vendor": VENDOR, "tenant": APP_KEY, "api": STANDARD, "pool": "trial", "left": 1}
    aidge.client.post("/_mock/quota", json=low).raise_for_status()
    assert aidge.balance() == 1
    refused(aidge.submit([item(generateCount=2)]), CONTRACT.trigger("quota.exhausted"))
    refused(aidge.submit([item(generateCount=1), item(generateCount=1)]), CONTRACT.trigger("quota.exhausted"))
    assert aidge.balance() == 1, "a refused submit uses nothing"
    aidge.task_id([item(generateCount=2)], trial=False)
    assert aidge.balance(trial=False) == CONTRACT.quota["purchased"] - 2
    aidge.task_id([item(generateCount=1)])
    assert aidge.balance() == 0
    refused(aidge.submit([item(generateCount=1)]), CONTRACT.trigger("quota.exhausted"))


def test_a_refused_request_uses_no_quota(aidge: Aidge) -> None:
    trial = CONTRACT.quota["trial"]
    refused(aidge.submit([item(generateCount=0)]), CONTRACT.trigger("body.invalid"), "generateCount")
    assert aidge.balance() == trial
    # A submit refused for its images generated nothing either, so it should use nothing.
    refused(aidge.submit([item("too-small.png", generateCount=2)]), CONTRACT.trigger("image.small"))
    refused(
        aidge.submit([item("person.png", generateCount=2, inputQualityDetect=1)]),
        CONTRACT.trigger("image.not_flat_lay"),
    )
    assert aidge.balance() == trial, "BUG: submits refused for their images used quota units"


def test_the_balance_needs_an_api_path(aidge: Aidge) -> None:
    refused(aidge.post(BALANCE, {}), CONTRACT.trigger("body.invalid"), "apiPath")
