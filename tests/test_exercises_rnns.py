"""The RNNs and LSTMs exercises' checks accept the right answers and reject wrong ones."""

import pytest
import torch

from llmnotes.exercises import rnns as ex


def test_lstm_parameters_are_four_gates_with_two_biases_each():
    assert ex.check_lstm_parameters(2, 32, 4 * (32 * 2 + 32 * 32 + 2 * 32))
    assert ex.lstm_parameter_count(3, 5) == sum(p.numel() for p in torch.nn.LSTM(3, 5).parameters())
    one_bias = ex.check_lstm_parameters(2, 32, 4 * (32 * 2 + 32 * 32 + 32))
    assert not one_bias and "two biases" in str(one_bias)
    rnn = ex.check_lstm_parameters(2, 32, 32 * 2 + 32 * 32 + 2 * 32)
    assert not rnn and "four gates" in str(rnn)
    assert "replace None" in str(ex.check_lstm_parameters(2, 32, None))
    assert "whole number" in str(ex.check_lstm_parameters(2, 32, 4608.0))
    assert "sizes 1 to 4,096" in str(ex.check_lstm_parameters(0, 32, 1))


def lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh, order="ifgo"):
    stacked = x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh
    gates = dict(zip(order, stacked.chunk(4, dim=-1), strict=True))
    c = torch.sigmoid(gates["f"]) * c + torch.sigmoid(gates["i"]) * torch.tanh(gates["g"])
    return torch.sigmoid(gates["o"]) * torch.tanh(c), c


def test_lstm_step_is_checked_against_lstm_cell_with_a_hint_for_the_gate_order():
    assert ex.check_lstm_step(lstm_step)
    swapped = ex.check_lstm_step(lambda *args: lstm_step(*args, order="ifog"))
    assert not swapped and "input, forget, candidate, output" in str(swapped)

    def old_c_in_h(x, h, c, *weights):
        new_h, new_c = lstm_step(x, h, c, *weights)
        return new_h / torch.tanh(new_c) * torch.tanh(c), new_c

    assert "c is right but h is not" in str(ex.check_lstm_step(old_c_in_h))
    assert "h and c differ" in str(ex.check_lstm_step(lambda x, h, c, *w: (h, c)))
    assert "must return the pair" in str(ex.check_lstm_step(lambda *args: args[1]))
    assert "raised ZeroDivisionError" in str(ex.check_lstm_step(lambda *args: 1 / 0))
    assert "replace None" in str(ex.check_lstm_step(None))


def test_lstm_step_that_updates_the_cell_state_in_place_is_still_right():
    def in_place(x, h, c, *weights):
        new_h, new_c = lstm_step(x, h, c, *weights)
        c.copy_(new_c)  # the reader reuses the tensor they were given
        return new_h, c

    assert ex.check_lstm_step(in_place)


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
def test_gradient_ratio_is_recomputed_from_the_page_model(kind):
    expected = ex.reference_gradient_ratio(kind, 20)
    assert 0 < expected < 1
    assert ex.check_gradient_ratio(kind, 20, float(f"{expected:.2e}"))
    assert "too high" in str(ex.check_gradient_ratio(kind, 20, expected * 2))
    assert "last over first" in str(ex.check_gradient_ratio(kind, 20, 1 / expected))
    assert "above 0" in str(ex.check_gradient_ratio(kind, 20, -1.0))
    assert "replace None" in str(ex.check_gradient_ratio(kind, 20, None))


def test_gradient_ratio_refuses_other_models_and_lengths():
    assert "'rnn' or 'lstm'" in str(ex.check_gradient_ratio("gru", 20, 0.1))
    assert "2 to 200" in str(ex.check_gradient_ratio("rnn", 1, 0.1))


def test_forget_bias_check_recomputes_with_the_bias_set():
    closed, open_ = (
        ex.reference_gradient_ratio("lstm", 20, 0.0),
        ex.reference_gradient_ratio("lstm", 20, 1.0),
    )
    assert closed < open_  # an open forget gate lets more gradient through
    assert ex.check_forget_bias(0.0, 20, closed)
    wrong = ex.check_forget_bias(0.0, 20, open_)
    assert not wrong and "too high" in str(wrong)
    assert ex.reference_gradient_ratio("lstm", 20, 1.0) == pytest.approx(
        ex.reference_gradient_ratio("lstm", 20)
    )  # the page's LSTMs start with forget bias 1
    assert "replace None" in str(ex.check_forget_bias(0.0, 20, None))
    assert "-5 to 5" in str(ex.check_forget_bias(9.0, 20, 0.1))


def rnn_jacobian(cell, xs, h0):
    jacobian, h = torch.eye(len(h0), dtype=h0.dtype), h0
    for x in xs:
        h = cell(x, h)
        jacobian = (1 - h**2)[:, None] * cell.weight_hh @ jacobian
    return jacobian


def test_rnn_jacobian_is_checked_against_autograd_with_hints_for_the_usual_slips():
    assert ex.check_rnn_jacobian(rnn_jacobian)

    def on_the_right(cell, xs, h0):
        jacobian, h = torch.eye(len(h0), dtype=h0.dtype), h0
        for x in xs:
            h = cell(x, h)
            jacobian = jacobian @ ((1 - h**2)[:, None] * cell.weight_hh)
        return jacobian

    assert "on the left" in str(ex.check_rnn_jacobian(on_the_right))

    def slope_at_the_old_state(cell, xs, h0):
        jacobian, h = torch.eye(len(h0), dtype=h0.dtype), h0
        for x in xs:
            jacobian = (1 - h**2)[:, None] * cell.weight_hh @ jacobian
            h = cell(x, h)
        return jacobian

    assert "at the new state" in str(ex.check_rnn_jacobian(slope_at_the_old_state))
    identity = ex.check_rnn_jacobian(lambda cell, xs, h0: torch.eye(len(h0)))
    assert not identity and "differs from autograd's" in str(identity)
    assert "has shape (2, 2)" in str(ex.check_rnn_jacobian(lambda cell, xs, h0: torch.eye(2)))
    assert "replace None" in str(ex.check_rnn_jacobian(None))
