"""Child process for the SIGKILL autosave test: autosave in a tight loop until killed."""

import sys
import time

from app.findings import model as m
from app.findings.autosave import Autosaver

study_uid, data_dir = sys.argv[1], sys.argv[2]
saver = Autosaver(study_uid, data_dir=data_dir)
base = m.StudyFindings(study_instance_uid=study_uid, reader="child")
i = 0
annotations = {"items": [{"id": f"a{k}", "points": [[k, k + 0.5]] * 20} for k in range(50)]}
saver.update(base, {"counter": 0, "t": time.time(), **annotations})
saver.flush()
print("started", flush=True)
while True:
    i += 1
    f = base.with_pars(m.ParsFinding("L5", "left", "complete_fracture", gap_mm=(i % 500) / 10.0))
    saver.update(f, {"counter": i, "t": time.time(), **annotations})
