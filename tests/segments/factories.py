from __future__ import annotations

import factory

from segments.models import ContactSegment

# The rule most tests need: contacts with a lead score of 70 or more.
HIGH_SCORE = [{"field": "leadScore", "op": "gte", "value": 70}]


class SegmentFactory(factory.django.DjangoModelFactory):
    """A saved segment whose rules went through the model's validation, as
    segments.services.segment_create does: `filter_json` may be given in any
    accepted form (a condition list, the builder's tree…) and is stored canonical."""

    class Meta:
        model = ContactSegment

    name = factory.Sequence(lambda n: f"Segment {n}")
    filter_json = factory.LazyFunction(lambda: [dict(rule) for rule in HIGH_SCORE])
    created_by = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        segment = model_class(*args, **kwargs)
        segment.full_clean()  # validates and canonicalises filter_json
        segment.save()
        return segment
