"""synthetic passes the dataset conformance suite (side features included)."""

from rsx.testing.conformance import DatasetConformance


class TestSyntheticDataset(DatasetConformance):
    dataset = "synthetic"
    fields = {"num_users": 50, "num_items": 30, "num_interactions": 2_000}
