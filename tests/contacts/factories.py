from __future__ import annotations

import factory
from django.utils import timezone

from contacts.models import Contact, Group, Tag


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"tag-{n}")


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Group {n}")
    description = factory.Faker("sentence")


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    job_title = factory.Faker("job")
    country = factory.Faker("country")
    city = factory.Faker("city")
    source = "website"
    lead_score = factory.Faker("pyint", min_value=0, max_value=100)
    lifecycle_stage = Contact.LifecycleStage.LEAD
    last_interacted_at = factory.LazyFunction(timezone.now)
    custom_fields = factory.LazyFunction(dict)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.add(*extracted)

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(*extracted)
