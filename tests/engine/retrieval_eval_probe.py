"""Run under a Keras backend (see test_retrieval_eval.py): the shared retrieval metrics on a
hand-worked example. Prints one JSON line."""

import json
import logging

import numpy as np

from rsx.api.engine import RetrievalEvaluation, evaluate_retrieval
from rsx.errors import ConfigError

# Items 1..5 (table rows 0..5). Scores per user, columns = items 1..5.
SCORES = {
    1: [0.9, 0.5, 0.5, 0.1, 0.0],  # item 1 seen; items 2 and 3 tie: the lower row (2) ranks first
    2: [0.0, 0.0, 0.0, 0.0, 0.0],  # all tie: ranked 1, 2, 3, 4, 5
    3: [0.0, 0.0, 0.0, 0.0, 0.0],  # only a rating of 2: nothing relevant
    4: [0.0, 0.0, 0.0, 0.0, 0.0],  # its one relevant item was seen in training
}


def scorer(users):
    return np.array([SCORES[int(u)] for u in users], dtype="float32")


held_out_users = np.array([1, 2, 2, 3, 4])
held_out_items = np.array([3, 4, 5, 2, 1])
ratings = np.array([5.0, 5.0, 4.0, 2.0, 4.0])
seen = (np.array([1, 4]), np.array([1, 1]))
relevant = ratings >= 4
report = {}
for chunk in (1, 1024):  # the same numbers whatever the chunk of users
    evaluation = RetrievalEvaluation(metrics_k=(2, 5), user_chunk=chunk)
    report[f"chunk_{chunk}"] = evaluate_retrieval(
        scorer, 6, (held_out_users[relevant], held_out_items[relevant]), seen, evaluation, "test_",
        users=held_out_users,
    )

warnings = []
logging.getLogger("rsx").addHandler(type("H", (logging.Handler,), {"emit": lambda self, r: warnings.append(r.getMessage())})())
none_pass = ratings >= 6
report["none_pass"] = evaluate_retrieval(
    scorer, 6, (held_out_users[none_pass], held_out_items[none_pass]), seen, RetrievalEvaluation(metrics_k=(2,)),
    "test_", users=held_out_users,
)
report["warnings"] = warnings
try:
    evaluate_retrieval(scorer, 6, (held_out_users, held_out_items), seen, RetrievalEvaluation(metrics_k=(10,)), "test_")
except ConfigError as error:
    report["k_error"] = str(error)
print(json.dumps(report))
