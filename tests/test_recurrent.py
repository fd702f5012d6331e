import pytest
import torch

from llmnotes.recurrent import LSTM, RNN, LSTMCell, RNNCell

SHAPES = [(1, 3, 4, 5), (100, 2, 3, 8), (17, 1, 6, 6)]  # (time, batch, input, hidden)


def inputs(time, batch, features, batch_first, seed=0):
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, time, features) if batch_first else (time, batch, features)
    return torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)


def grads(loss, tensors):
    return torch.autograd.grad(loss, tensors)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("time, batch, features, hidden", SHAPES)
def test_rnn_matches_torch(time, batch, features, hidden, batch_first):
    torch.manual_seed(1)
    reference = torch.nn.RNN(features, hidden, batch_first=batch_first).double()
    ours = RNN.from_torch(reference)
    x = inputs(time, batch, features, batch_first)
    h0 = torch.randn(1, batch, hidden, dtype=torch.float64)
    out_ref, h_ref = reference(x, h0)
    out, h = ours(x, h0)
    torch.testing.assert_close(out, out_ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(h, h_ref, atol=1e-5, rtol=1e-5)
    loss_ref, loss = out_ref.square().sum() + h_ref.sum(), out.square().sum() + h.sum()
    g_ref = grads(loss_ref, [x, *reference.parameters()])
    g = grads(
        loss, [x, ours.cell.weight_ih, ours.cell.weight_hh, ours.cell.bias_ih, ours.cell.bias_hh]
    )
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("time, batch, features, hidden", SHAPES)
def test_lstm_matches_torch(time, batch, features, hidden, batch_first):
    torch.manual_seed(2)
    reference = torch.nn.LSTM(features, hidden, batch_first=batch_first).double()
    ours = LSTM.from_torch(reference)
    x = inputs(time, batch, features, batch_first)
    state = tuple(torch.randn(1, batch, hidden, dtype=torch.float64) for _ in range(2))
    out_ref, (h_ref, c_ref) = reference(x, state)
    out, (h, c) = ours(x, state)
    for a, b in ((out, out_ref), (h, h_ref), (c, c_ref)):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    loss_ref = out_ref.square().sum() + h_ref.sum() + c_ref.sum()
    loss = out.square().sum() + h.sum() + c.sum()
    g_ref = grads(loss_ref, [x, *reference.parameters()])
    g = grads(
        loss, [x, ours.cell.weight_ih, ours.cell.weight_hh, ours.cell.bias_ih, ours.cell.bias_hh]
    )
    for a, b in zip(g, g_ref, strict=True):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_default_initial_state_is_zero():
    torch.manual_seed(3)
    reference = torch.nn.LSTM(2, 4)
    ours = LSTM.from_torch(reference)
    x = torch.randn(5, 3, 2)
    torch.testing.assert_close(ours(x)[0], reference(x)[0])
    rnn_ref = torch.nn.RNN(2, 4)
    torch.testing.assert_close(RNN.from_torch(rnn_ref)(x)[0], rnn_ref(x)[0])


def test_cells_have_torch_shapes():
    assert RNNCell(3, 5).weight_hh.shape == (5, 5)
    assert LSTMCell(3, 5).weight_ih.shape == (20, 3)


def test_only_simple_modules_can_be_copied():
    with pytest.raises(ValueError, match="one-layer"):
        LSTM.from_torch(torch.nn.LSTM(2, 3, num_layers=2))
