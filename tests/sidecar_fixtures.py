"""A small lesson written for these tests, and a sidecar that answers all of it."""

from __future__ import annotations

LESSON = """\
---
sort: 3
---
# Shipping models

## Learning Objectives

- [ ] Explain what a model registry is.
- [ ] Compare batch and online serving.
- [ ] Roll back a bad release.

:bell: **Model registry**: a store that versions trained models with their metadata.

:bell: Career Tip: write down what you deploy and why.

:pencil: Q1. Why version models?<br>
:pencil: Q2. When is batch serving enough?
"""

COMPLETE = """\
lesson:
  id: shipping
  tags: [serving]
questions:
  Q1:
    question: Why version models?
    answer: To know which model made which prediction, and to roll back.
  Q2:
    question: When is batch serving enough?
    answer: When predictions can wait for the next run.
objectives:
  1:
    objective: Explain what a model registry is.
    answer: A versioned store of models with their metadata.
  2:
    objective: Compare batch and online serving.
    answer: Batch scores on a schedule; online answers each request.
  3:
    objective: Roll back a bad release.
    skip: true
terms:
  Release journal:
    bell: 2
    definition: A record of what was deployed and why.
extra:
  - id: canary
    front: What is a canary release?
    back: Sending a small share of traffic to the new model first.
"""
