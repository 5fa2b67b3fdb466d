"""The generated set is shown only where its lead over the list is beyond the noise of the
photos it was measured on (service.set_verdict, personal_blend's ``set_lead_se``)."""

from __future__ import annotations

import pytest

from tagassist.library import Library
from tagassist.suggest.featurize import Models
from tagassist.suggest.generated_set import SET_HIDDEN
from tagassist.suggest.model_store import BLEND_FILE, PERSONAL_BLEND, publish_and_activate
from tagassist.suggest.service import ColdStartSuggester


@pytest.mark.parametrize("measured, shown", [
    ({"set_acceptance@5": 0.49, "list_acceptance@5": 0.35, "set_lead_se": 0.03}, True),
    # coco-kinds' replay: a lead of 0.007 on 31 photos was shown and then lost to the list
    ({"set_acceptance@5": 0.471, "list_acceptance@5": 0.4645, "set_lead_se": 0.02}, False),
    ({"set_acceptance@5": 0.40, "list_acceptance@5": 0.40, "set_lead_se": 0.0}, False),
    ({"set_acceptance@5": 0.60, "list_acceptance@5": 0.20, "set_lead_se": None}, False),
])
def test_the_set_is_shown_only_when_it_leads_beyond_the_noise(models_dir, tmp_path,
                                                              measured, shown):
    lib = Library.open(tmp_path / "lib" / "tagassist.db")
    try:
        user = lib.users.add("ann").id
        suggester = ColdStartSuggester(lib, Models(models_dir))
        assert suggester.set_verdict(user) == SET_HIDDEN  # nothing measured yet
        metrics = {"held_out_items": 30, "set_measured_items": 30, **measured}
        publish_and_activate(lib, PERSONAL_BLEND, user,
                             lambda folder: (folder / BLEND_FILE).write_text("{}"), metrics)
        verdict = suggester.set_verdict(user)
        assert (verdict == "") is shown, verdict
        if not shown:
            assert "on your newest 30 photos" in verdict
    finally:
        lib.close()
