import pytest
import torch

from gresnet.augment import BatchTransform, random_crop
from gresnet.data import (
    CONTENT_DIGESTS, DatasetCorruptedError, DatasetNotFoundError, channel_stats, check_dataset, content_digests,
    load_cifar, resolve_root, stratified_split,
)

from conftest import write_small_cifar10, write_small_cifar100


def test_real_cifar10_digests_match(cifar10):
    assert content_digests(cifar10) == CONTENT_DIGESTS["cifar10"]


def test_real_cifar10_class_counts(cifar10):
    assert cifar10.train.images.shape == (50000, 3, 32, 32)
    assert cifar10.train.images.dtype == torch.uint8
    assert torch.bincount(cifar10.train.labels).tolist() == [5000] * 10
    assert torch.bincount(cifar10.test.labels).tolist() == [1000] * 10
    assert cifar10.classes[:3] == ["airplane", "automobile", "bird"]


def test_real_cifar10_channel_statistics(cifar10):
    mean, std = channel_stats(cifar10.train.images)
    assert mean == pytest.approx([0.4914, 0.4822, 0.4465], abs=1e-4)
    assert std == pytest.approx([0.2470, 0.2435, 0.2616], abs=1e-4)


def test_check_dataset_reports_real_copy(cifar10_root):
    report = check_dataset("cifar10", cifar10_root)
    assert report["status"] == "ok"
    assert report["train_images"] == 50000
    assert all(item["matches"] for item in report["digests"].values())


def test_small_cifar10_loads(tmp_path):
    write_small_cifar10(tmp_path, per_class_train=6, per_class_test=2)
    data = load_cifar("cifar10", tmp_path)
    assert len(data.train) == 60 and len(data.test) == 20
    assert data.num_classes == 10
    assert check_dataset("cifar10", tmp_path)["status"] == "digest mismatch"


def test_small_cifar100_loads(tmp_path):
    write_small_cifar100(tmp_path, per_class_train=2, per_class_test=1)
    data = load_cifar("cifar100", tmp_path)
    assert len(data.train) == 200 and len(data.test) == 100
    assert data.num_classes == 100
    assert data.classes[7] == "fine7"
    assert torch.bincount(data.train.labels).tolist() == [2] * 100
    assert check_dataset("cifar100", tmp_path)["status"] == "no reference digests"


def test_missing_folder_names_path_and_env(tmp_path):
    with pytest.raises(DatasetNotFoundError) as error:
        load_cifar("cifar100", tmp_path)
    message = str(error.value)
    assert str(tmp_path / "cifar-100-python") in message
    assert "GRESNET_DATA" in message
    assert "download" in message


def test_truncated_file_is_named(tmp_path):
    write_small_cifar10(tmp_path)
    path = tmp_path / "cifar-10-batches-py" / "data_batch_3"
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(DatasetCorruptedError, match="data_batch_3"):
        load_cifar("cifar10", tmp_path)
    report = check_dataset("cifar10", tmp_path)
    assert report["status"] == "corrupted"
    assert "data_batch_3" in report["error"]


def test_wrong_shape_file_is_named(tmp_path):
    import pickle

    write_small_cifar100(tmp_path)
    path = tmp_path / "cifar-100-python" / "test"
    with path.open("wb") as f:
        pickle.dump({"data": [[1, 2, 3]], "fine_labels": [0]}, f)
    with pytest.raises(DatasetCorruptedError, match=r"cifar-100-python/test is corrupted"):
        load_cifar("cifar100", tmp_path)


def test_missing_file_is_named(tmp_path):
    write_small_cifar10(tmp_path)
    (tmp_path / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DatasetNotFoundError, match="test_batch"):
        load_cifar("cifar10", tmp_path)


def test_unknown_dataset_lists_valid_names(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; valid choices: cifar10, cifar100"):
        load_cifar("mnist", tmp_path)


def test_root_from_argument_then_env_then_default(monkeypatch, tmp_path):
    monkeypatch.setenv("GRESNET_DATA", str(tmp_path / "env"))
    assert resolve_root(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_root() == tmp_path / "env"
    monkeypatch.delenv("GRESNET_DATA")
    assert str(resolve_root()) == "data"


def test_stratified_split_balanced_and_seeded(cifar10):
    train_idx, val_idx = stratified_split(cifar10.train.labels, 5000, seed=0)
    assert len(train_idx) == 45000 and len(val_idx) == 5000
    assert torch.bincount(cifar10.train.labels[val_idx]).tolist() == [500] * 10
    assert not set(train_idx.tolist()) & set(val_idx.tolist())
    again, _ = stratified_split(cifar10.train.labels, 5000, seed=0)
    other, _ = stratified_split(cifar10.train.labels, 5000, seed=1)
    assert torch.equal(train_idx, again)
    assert not torch.equal(train_idx, other)


def test_stratified_split_rejects_oversized_validation():
    with pytest.raises(ValueError, match="val_size must be in"):
        stratified_split(torch.arange(10) % 2, 10, seed=0)


def test_random_crop_draws_offsets_per_image():
    images = torch.arange(32 * 32, dtype=torch.float32).view(1, 1, 32, 32).repeat(64, 3, 1, 1)
    generator = torch.Generator().manual_seed(0)
    crops = random_crop(images, 4, generator)
    assert crops.shape == (64, 3, 32, 32)
    distinct = {tuple(crop[0, 10, 10:12].tolist()) for crop in crops}
    assert len(distinct) > 10, "a single crop offset was applied to the whole batch"
    # Each crop is a shifted window of the padded image: interior pixels step by 1 along a row.
    assert torch.all(crops[:, :, 10, 11] - crops[:, :, 10, 10] == 1)


@pytest.mark.parametrize("augmentation", ["standard", "heavy"])
def test_batch_transform_augments_per_image(cifar10, augmentation):
    transform = BatchTransform(augmentation, [0.5] * 3, [0.25] * 3)
    image = cifar10.train.images[:1].repeat(32, 1, 1, 1)
    out = transform(image, torch.Generator().manual_seed(0), train=True)
    assert out.shape == (32, 3, 32, 32) and out.dtype == torch.float32
    distinct = torch.unique(out.flatten(1), dim=0).shape[0]
    assert distinct > 16, f"only {distinct} distinct augmentations of one image in a batch of 32"


def test_batch_transform_eval_only_normalises(cifar10):
    transform = BatchTransform("heavy", [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], channels_last=True)
    images = cifar10.test.images[:4]
    out = transform(images, train=False)
    expected = (images.float() / 255 - 0.5) / 0.25
    assert torch.allclose(out, expected)
    assert out.is_contiguous(memory_format=torch.channels_last)


def test_batch_transform_rejects_unknown_policy():
    with pytest.raises(ValueError, match="unknown augmentation 'strong'; valid choices: none, standard, heavy"):
        BatchTransform("strong", [0.5] * 3, [0.25] * 3)
