#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets: fuzz/corpus/{idx,safetensors,cli}/.

Small inputs of each kind: valid files, and each way a file can be wrong (truncated headers,
wrong magic numbers, huge sizes, bad JSON, overlapping tensors, bad flags...). The seeds are
committed; rerun this script after changing it (it rewrites only the files it names). The
regression inputs (findings of the fuzzers or of reading the code, named crash-<what>) are
written here too when they are easier to read as code than as bytes; the fuzzers' own
reproducers are copied into the corpus as they are. Usage: fuzz/make_seeds.py
"""
import json
import pathlib
import struct

CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def write(target, name, data):
    path = CORPUS / target / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())


# ---- IDX --------------------------------------------------------------------------------------

def idx(dims, data=None, magic=None):
    header = magic if magic is not None else bytes([0, 0, 8, len(dims)])
    sizes = b"".join(struct.pack(">I", d) for d in dims)
    if data is None:
        count = 1
        for d in dims:
            count *= d
        data = bytes(i % 256 for i in range(count))
    return header + sizes + data


def idx_seeds():
    write("idx", "valid-labels-1d", idx([3], bytes([7, 2, 1])))
    write("idx", "valid-images-3d", idx([2, 3, 3]))
    write("idx", "valid-2d", idx([2, 5]))
    write("idx", "valid-4d", idx([1, 2, 2, 2]))
    write("idx", "empty", b"")
    write("idx", "truncated-magic", b"\x00\x00")
    write("idx", "truncated-sizes", b"\x00\x00\x08\x03\x00\x00\x00\x02")
    write("idx", "truncated-data", idx([2, 3, 3])[:-5])
    write("idx", "trailing-bytes", idx([3], bytes([1, 2, 3])) + b"\xff\xff")
    write("idx", "magic-html", b"<html><body>Not Found</body></html>")
    write("idx", "magic-gzip", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03")
    write("idx", "magic-byte-swapped", b"\x03\x08\x00\x00" + struct.pack("<I", 2) * 3 + bytes(8))
    write("idx", "type-float32", idx([2], bytes(8), magic=b"\x00\x00\x0d\x01"))
    write("idx", "type-signed-byte", idx([2], bytes(2), magic=b"\x00\x00\x09\x01"))
    write("idx", "type-unknown", idx([2], bytes(2), magic=b"\x00\x00\x42\x01"))
    write("idx", "rank-0", b"\x00\x00\x08\x00")
    write("idx", "rank-5", idx([1, 1, 1, 1, 1], bytes(1), magic=b"\x00\x00\x08\x05"))
    write("idx", "rank-255", b"\x00\x00\x08\xff" + bytes(16))
    write("idx", "zero-dimension", idx([4, 0, 4], b""))
    write("idx", "huge-dims-too-large", idx([0xFFFFFFFF] * 3, b""))
    write("idx", "huge-dims-allowed-no-data", idx([0x10000, 0x10000], b"\x01\x02"))  # 4 GiB promised
    write("idx", "max-dims-rank-4", idx([0xFFFFFFFF] * 4, b""))


# ---- safetensors ------------------------------------------------------------------------------

def safetensors(header, data=b"", length=None, raw_header=None):
    text = raw_header if raw_header is not None else json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    encoded = text.encode()
    return struct.pack("<Q", len(encoded) if length is None else length) + encoded + data


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def entry(dtype, shape, begin, end):
    return {"dtype": dtype, "shape": shape, "data_offsets": [begin, end]}


def safetensors_seeds():
    weight, bias = f32(1, 2, 3, 4, 5, 6), f32(0.5, -0.5)
    linear = {"__metadata__": {"format": "pt"}, "bias": entry("F32", [2], 0, 8), "weight": entry("F32", [2, 3], 8, 32)}
    write("safetensors", "valid-linear-3-2", safetensors(linear, bias + weight))
    write("safetensors", "valid-i64-and-f32",
          safetensors({"steps": entry("I64", [2], 0, 16), "w": entry("F32", [1], 16, 20)},
                      struct.pack("<qq", 7, -1) + f32(1.5)))
    write("safetensors", "valid-empty", safetensors({}))
    write("safetensors", "valid-metadata-only", safetensors({"__metadata__": {"epoch": "3", "model": "mlp"}}))
    write("safetensors", "valid-scalar", safetensors({"s": entry("F32", [], 0, 4)}, f32(2)))
    write("safetensors", "valid-zero-size", safetensors({"z": entry("F32", [0, 3], 0, 0)}))
    write("safetensors", "valid-wrong-shape-for-linear",
          safetensors({"weight": entry("F32", [3, 2], 0, 24), "bias": entry("F32", [2], 24, 32)}, weight + bias))
    write("safetensors", "valid-i64-weight",
          safetensors({"weight": entry("I64", [2, 3], 0, 48)}, bytes(48)))
    write("safetensors", "short-length", b"\x08\x00\x00")
    write("safetensors", "header-longer-than-file", safetensors({}, length=4096))
    write("safetensors", "header-over-limit", safetensors({}, length=200_000_000))
    write("safetensors", "header-length-max", safetensors({}, length=2**64 - 1))
    write("safetensors", "json-invalid", safetensors(None, raw_header='{"a":'))
    write("safetensors", "json-array", safetensors(None, raw_header="[1,2,3]"))
    write("safetensors", "json-duplicate-key",
          safetensors(None, raw_header='{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                                       '"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', data=f32(1)))
    write("safetensors", "json-nested-deep", safetensors(None, raw_header="[" * 500 + "]" * 500))
    write("safetensors", "dtype-f16", safetensors({"h": entry("F16", [2], 0, 4)}, bytes(4)))
    write("safetensors", "dtype-unknown", safetensors({"h": entry("Q7", [2], 0, 4)}, bytes(4)))
    write("safetensors", "dtype-not-string", safetensors({"h": {"dtype": 3, "shape": [1], "data_offsets": [0, 4]}}, bytes(4)))
    write("safetensors", "entry-not-object", safetensors({"h": [1, 2]}))
    write("safetensors", "missing-offsets", safetensors({"h": {"dtype": "F32", "shape": [1]}}, bytes(4)))
    write("safetensors", "offsets-negative", safetensors({"h": entry("F32", [1], -4, 0)}, bytes(4)))
    write("safetensors", "offsets-not-pair", safetensors({"h": {"dtype": "F32", "shape": [1], "data_offsets": [0]}}, bytes(4)))
    write("safetensors", "offsets-reversed", safetensors({"h": entry("F32", [1], 4, 0)}, bytes(4)))
    write("safetensors", "offsets-past-end", safetensors({"h": entry("F32", [4], 0, 16)}, bytes(4)))
    write("safetensors", "offsets-float", safetensors({"h": {"dtype": "F32", "shape": [1], "data_offsets": [0.0, 4.5]}}, bytes(4)))
    write("safetensors", "size-mismatch", safetensors({"h": entry("F32", [2], 0, 4)}, bytes(4)))
    write("safetensors", "gap", safetensors({"a": entry("F32", [1], 4, 8)}, bytes(8)))
    write("safetensors", "overlap", safetensors({"a": entry("F32", [2], 0, 8), "b": entry("F32", [1], 4, 8)}, bytes(8)))
    write("safetensors", "trailing-data", safetensors({"a": entry("F32", [1], 0, 4)}, bytes(12)))
    write("safetensors", "shape-overflow", safetensors({"a": entry("F32", [2**62, 4], 0, 0)}))
    write("safetensors", "shape-huge-size", safetensors({"a": entry("I64", [2**63 + 5], 0, 0)}))
    write("safetensors", "shape-negative", safetensors({"a": entry("F32", [-1], 0, 4)}, bytes(4)))
    write("safetensors", "metadata-not-string", safetensors({"__metadata__": {"epoch": 3}}))
    write("safetensors", "metadata-not-object", safetensors({"__metadata__": "pt"}))


# ---- CLI (NUL-separated argument words) -------------------------------------------------------

def cli_seeds():
    seeds = {
        "no-args": [],
        "help": ["--help"],
        "help-all": ["--help-all"],
        "train-help": ["train", "--help"],
        "eval-help": ["eval", "-h"],
        "train-default": ["train"],
        "train-every-flag": ["train", "--model", "cnn", "--hidden", "64,32", "--channels", "8,16", "--batchnorm",
                             "--dropout", "0.25", "--epochs", "3", "--batch-size", "64", "--lr", "0.01", "--optimizer",
                             "sgd", "--momentum", "0.5", "--weight-decay", "0.0001", "--scheduler", "onecycle",
                             "--augment", "--seed", "42", "--device", "cpu", "--threads", "1", "--limit", "100",
                             "--data", "dir", "--save", "a.safetensors", "--resume", "b.safetensors", "--metrics",
                             "m.csv", "--plot", "p.svg"],
        "train-equals": ["train", "--epochs=2", "--model=mlp"],
        "train-repeated-flag": ["train", "--epochs", "2", "--epochs", "4"],
        "eval": ["eval", "--checkpoint", "run.safetensors", "--data", "d", "--threads", "2"],
        "predict": ["predict", "--checkpoint", "run.safetensors", "--index", "3", "--split", "train"],
        "unknown-command": ["fly"],
        "unknown-flag": ["train", "--bogus"],
        "bad-model": ["train", "--model", "rnn"],
        "epochs-negative": ["train", "--epochs", "-1"],
        "epochs-word": ["train", "--epochs", "many"],
        "epochs-huge": ["train", "--epochs", "99999999999999999999999"],
        "hidden-bad": ["train", "--hidden", "256,abc"],
        "hidden-empty": ["train", "--hidden", ""],
        "hidden-commas": ["train", "--hidden", ",,"],
        "lr-nan": ["train", "--lr", "nan"],
        "lr-inf": ["train", "--lr", "inf"],
        "lr-negative": ["train", "--lr", "-0.1"],
        "momentum-one": ["train", "--momentum", "1"],
        "dropout-high": ["train", "--dropout", "1.5"],
        "weight-decay-nan": ["train", "--weight-decay", "nan"],
        "device-cuda": ["train", "--device", "cuda"],
        "threads-negative": ["train", "--threads", "-2"],
        "limit-negative": ["train", "--limit", "-5"],
        "seed-overflow": ["train", "--seed", "18446744073709551616"],
        "batch-size-zero": ["train", "--batch-size", "0"],
        "eval-no-checkpoint": ["eval"],
        "predict-index-negative": ["predict", "--checkpoint", "a", "--index", "-1"],
        "predict-bad-split": ["predict", "--checkpoint", "a", "--split", "valid"],
        "two-commands": ["train", "eval"],
        "flag-missing-value": ["train", "--epochs"],
        "positional-extra": ["train", "extra"],
        "dash-dash": ["train", "--", "--epochs", "2"],
        "newline-in-flag": ["train", "--model", "m\nlp"],
    }
    for name, words in seeds.items():
        write("cli", name, "\0".join(words))


# ---- regression inputs: findings, kept so the replay test checks them for good ---------------

def regression_inputs():
    # A header nested 200000 levels deep: the error message printed it (nlohmann's dump recurses
    # per level) and overflowed the stack. Now refused while parsing, past 128 levels.
    depth = 200_000
    write("safetensors", "crash-deep-json-array", safetensors(None, raw_header="[" * depth + "]" * depth))
    write("safetensors", "crash-deep-json-entry",
          safetensors(None, raw_header='{"w":' + "[" * depth + "]" * depth + "}"))
    # An unknown command with a newline in it: the error was two lines (the word was printed as
    # it was), breaking the promise of one line on stderr.
    write("cli", "crash-unknown-command-newline", "fly\naway\0--epochs\0003")


if __name__ == "__main__":
    idx_seeds()
    safetensors_seeds()
    cli_seeds()
    regression_inputs()
