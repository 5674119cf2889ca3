"""The LSTMCell lesson's code, as it was written, to measure chartui against in one run.

Model, training iteration and sampling loop follow the lesson (reference notes, lesson A):
batch 1, a random 201-character portion, the cell looped over 200 steps with the loss summed per
step, Adam 0.005; sampling with exp(logits / T) and multinomial, one character at a time.
"""

from __future__ import annotations

import random
import string
import time

import torch
from torch import nn

PORTION = 200


class LessonRNN(nn.Module):
    def __init__(self, input_size=100, embed_size=100, hidden_size=128, output_size=100):
        super().__init__()
        self.hidden_size = hidden_size
        self.embed = nn.Embedding(input_size, embed_size)
        self.rnn = nn.LSTMCell(embed_size, hidden_size)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, character, hidden, cell_state):
        embedded = self.embed(character)
        hidden, cell_state = self.rnn(embedded, (hidden, cell_state))
        return self.fc(hidden), hidden, cell_state

    def init_zero_state(self):
        return torch.zeros(1, self.hidden_size), torch.zeros(1, self.hidden_size)


def char_to_tensor(text: str) -> torch.Tensor:
    tensor = torch.zeros(len(text)).long()
    for c in range(len(text)):
        tensor[c] = string.printable.index(text[c])
    return tensor


def draw_random_sample(text: str) -> tuple[torch.Tensor, torch.Tensor]:
    start = random.randint(0, len(text) - PORTION - 1)
    portion = text[start:start + PORTION + 1]
    return char_to_tensor(portion[:-1]), char_to_tensor(portion[1:])


def training_chars_per_second(text: str, seconds: float) -> float:
    """The lesson's training iteration, repeated for `seconds`; characters trained per second."""
    torch.manual_seed(123)
    random.seed(123)
    model = LessonRNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.005)
    iterations, began = 0, time.perf_counter()
    while time.perf_counter() - began < seconds:
        hidden, cell_state = model.init_zero_state()
        optimizer.zero_grad()
        loss = 0.0
        inputs, targets = draw_random_sample(text)
        for c in range(PORTION):
            outputs, hidden, cell_state = model(inputs[c].view(1), hidden, cell_state)
            loss += torch.nn.functional.cross_entropy(outputs, targets[c].view(1))
        loss /= PORTION
        loss.backward()
        optimizer.step()
        iterations += 1
    return iterations * PORTION / (time.perf_counter() - began)


def sampling_chars_per_second(length: int = 2000, temperature: float = 0.8) -> float:
    """The lesson's `evaluate` loop (prime "Th"); characters generated per second."""
    torch.manual_seed(123)
    model = LessonRNN()
    began = time.perf_counter()
    with torch.no_grad():
        hidden, cell_state = model.init_zero_state()
        prime_input = char_to_tensor("Th")
        _, hidden, cell_state = model(prime_input[0].view(1), hidden, cell_state)
        inp = prime_input[-1]
        predicted = "Th"
        for _ in range(length):
            output, hidden, cell_state = model(inp.view(1), hidden, cell_state)
            output_dist = output.data.view(-1).div(temperature).exp()
            top_i = torch.multinomial(output_dist, 1)[0]
            predicted_char = string.printable[top_i]
            predicted += predicted_char
            inp = char_to_tensor(predicted_char)
    return length / (time.perf_counter() - began)
