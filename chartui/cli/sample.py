"""`chartui sample`: text from a checkpoint, sampled (a temperature sweep, several
samples) or found by beam search."""

from __future__ import annotations

import argparse
import secrets
import sys

from chartui.cli.parser import UsageError
from chartui.config import MAX_SEED
from chartui.errors import ChartuiError
from chartui.files import user_path

MAX_SAMPLES = 1000  # --num-samples


def read_prime_file(text: str) -> str:
    """The text of a --prime-file: UTF-8 (a byte-order mark is dropped), neither empty nor
    binary; anything else is refused with one sentence."""
    path = user_path(text)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ChartuiError(f"the prime file '{path}' does not exist") from None
    except IsADirectoryError:
        raise ChartuiError(f"the prime file '{path}' is a folder; give a text file") from None
    except OSError as exc:
        raise ChartuiError(f"cannot read the prime file '{path}' "
                           f"({exc.strerror or exc})") from None
    if b"\x00" in raw:
        raise ChartuiError(f"the prime file '{path}' contains NUL bytes, so it looks like a "
                           "binary file; give a text file")
    try:
        prime = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ChartuiError(f"the prime file '{path}' is not UTF-8 text (byte {exc.start} cannot "
                           "be read); save it as UTF-8") from None
    if not prime:
        raise ChartuiError(f"the prime file '{path}' is empty; give some text to start from, "
                           "or leave out --prime-file")
    return prime


def _refuse_with_beam(args: argparse.Namespace) -> None:
    """Beam search draws nothing at random and works at temperature 1: the options that shape
    or seed random draws would be silently ignored, so they are refused."""
    ignored = [flag for flag, value in (("--temperature", args.temperature),
                                        ("--top-k", args.top_k), ("--top-p", args.top_p),
                                        ("--num-samples", args.num_samples),
                                        ("--seed", args.seed)) if value is not None]
    if ignored:
        raise ChartuiError(f"--beam finds the likeliest text at temperature 1 without drawing at "
                         f"random, so {' and '.join(ignored)} would change nothing; leave "
                         f"{'it' if len(ignored) == 1 else 'them'} out")


def _sample_plan(args: argparse.Namespace, temperatures: list[float]
                 ) -> list[tuple[str | None, float, int | None]]:
    """(label, temperature, seed) of each sample to print. One sample has no label and the
    seed as given; several count their seeds up from --seed (or from one drawn at random), the
    same for every temperature, so the only difference in a sweep is the temperature."""
    count = args.num_samples or 1
    if count == 1 and len(temperatures) == 1:
        return [(None, temperatures[0], args.seed)]
    base = args.seed if args.seed is not None else secrets.randbelow(MAX_SEED + 1)
    plan = []
    for temperature in temperatures:
        for number in range(1, count + 1):
            seed = (base + number - 1) % (MAX_SEED + 1)
            parts = [f"temperature {temperature:g}"] if len(temperatures) > 1 else []
            parts += [f"sample {number}"] if count > 1 else []
            plan.append((f"--- {', '.join(parts)} (seed {seed}) ---", temperature, seed))
    return plan


def cmd_sample(args: argparse.Namespace) -> int:
    from chartui.config import check_beam_width, check_length, check_temperature, check_top_p

    # everything is checked before torch loads, so mistakes show at once
    if args.prime is not None and args.prime_file is not None:
        raise ChartuiError("give --prime or --prime-file, not both")
    if args.beam is not None:
        check_beam_width(args.beam)
        _refuse_with_beam(args)
    for temperature in args.temperature or []:
        check_temperature(temperature)
    check_top_p(args.top_p)
    if args.num_samples is not None and not 1 <= args.num_samples <= MAX_SAMPLES:
        raise ChartuiError(f"--num-samples {args.num_samples} is out of range; ask for 1 to "
                           f"{MAX_SAMPLES:,} samples")
    check_length(args.length)
    given_prime = read_prime_file(args.prime_file) if args.prime_file else args.prime
    from chartui.checkpoint import load_model
    from chartui.model import resolve_device
    from chartui.sampling import SamplingSettings, sample_stream

    device = resolve_device(args.device)
    model, vocab, payload = load_model(args.checkpoint, device)
    saved = payload.get("train_config") or {}
    prime = given_prime if given_prime is not None else saved.get("sample_prime", "Th")
    temperatures = args.temperature or [saved.get("sample_temperature", 0.8)]
    for temperature in temperatures:
        SamplingSettings(temperature, args.top_k, args.top_p).validate(len(vocab))
    unknown = vocab.unknown_chars(prime)
    if unknown and given_prime is None:  # the run's own prime (e.g. "Th" on a Chinese corpus)
        prime = "".join(c for c in prime if c in vocab)
    elif unknown:
        shown = ", ".join(repr(c) for c in unknown[:8]) + (", …" if len(unknown) > 8 else "")
        if not args.skip_unknown:
            raise UsageError(f"the prime has characters this model never saw: {shown}; remove "
                             "them or pass --skip-unknown to leave them out")
        print(f"chartui: note: the model never saw {shown}; those characters of the prime are "
              "skipped", file=sys.stderr)
    out = sys.stdout
    if args.beam is not None:
        from chartui.beam import beam_search
        out.write(prime + beam_search(model, vocab, prime, args.length, args.beam).text + "\n")
        out.flush()
        return 0
    live = out.isatty()
    for label, temperature, seed in _sample_plan(args, temperatures):
        if label:
            out.write(label + "\n")
        out.write(prime)
        settings = SamplingSettings(temperature, args.top_k, args.top_p)
        for char in sample_stream(model, vocab, prime, args.length, settings, seed):
            out.write(char)
            if live:
                out.flush()
        out.write("\n")
        out.flush()
    return 0
