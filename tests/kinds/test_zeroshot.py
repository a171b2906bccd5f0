import torch
import torch.nn.functional as F

from lipeval.kinds.zeroshot.evaluate import build_prompts, class_weights


def test_prompts_from_templates_and_cupl():
    prompts, owner = build_prompts(["cat", "dog"], ["a {c}.", "a photo of a {c}."])
    assert prompts == ["a cat.", "a photo of a cat.", "a dog.", "a photo of a dog."]
    assert owner == [0, 0, 1, 1]
    prompts, owner = build_prompts(["cat", "dog"], {"cat": ["x"], "dog": ["y", "z"]})
    assert prompts == ["x", "y", "z"] and owner == [0, 1, 1]


def test_class_weight_is_renormalised_mean_of_normalised_prompts():
    e = torch.tensor([[3.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    w = class_weights(e, [0, 0, 1], 2)
    expected0 = F.normalize(torch.tensor([0.5, 0.5]), dim=0)  # mean of (1,0) and (0,1), renormalised
    assert torch.allclose(w[0], expected0)
    assert torch.allclose(w[1], torch.tensor([0.0, 1.0]))


class _FakeModel(torch.nn.Module):
    """encode_text = a fixed random embedding per token sequence, for parity with clip-benchmark."""

    def __init__(self):
        super().__init__()
        self.table = torch.nn.Embedding(1000, 16)

    def encode_text(self, tokens):
        return self.table(tokens).sum(1)


def test_parity_with_clip_benchmark_zero_shot_classifier():
    from clip_benchmark.metrics.zeroshot_classification import zero_shot_classifier

    torch.manual_seed(0)
    model = _FakeModel()
    vocab = {}

    def tokenizer(texts):
        ids = [[vocab.setdefault(w, len(vocab) + 1) for w in t.split()] for t in texts]
        out = torch.zeros(len(ids), 8, dtype=torch.long)
        for i, row in enumerate(ids):
            out[i, :len(row)] = torch.tensor(row)
        return out

    classnames = ["red circle", "blue square", "green star"]
    templates = ["a {c}.", "a photo of a {c}.", "{c} on a table."]
    ref = zero_shot_classifier(model, tokenizer, classnames, templates, "cpu", amp=False)  # (D, C)
    prompts, owner = build_prompts(classnames, templates)
    ours = class_weights(model.encode_text(tokenizer(prompts)).detach(), owner, len(classnames))
    assert torch.allclose(ours.T, ref, atol=1e-6)
