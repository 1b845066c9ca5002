# david: the second stage: 15 pictures of David (here bronze heads in profile) trained on top of the
# Plato model (--init), 500 steps in the gallery profile: "David on Plato".
david.title := David on Plato
david.about := Stage two: the Plato model trained further on a handful of pictures of David (here bronze \
  heads in profile). With so few pictures, what the model knew of Plato shows through, and the two faces \
  blend. The walk rests on the David pictures themselves, found in the model, and invents the busts between.
david.kind     := david
david.pictures := $(DAVID_PICTURES)
david.size     := $(SIZE)
david.seed     := 22
david.steps    := $(FINE_TUNE_STEPS)
david.init     := $(OUT)/plato/model.ckpt
david.objective := $(OBJECTIVE)
david.batch    := $(BATCH)
david.frames   := $(FRAMES)
david.fps      := 24
david.keys     := $(KEYS)
# A walk through the David pictures themselves (projected into the model), the busts between them invented.
david.through  := $(KEYS)
david.psi      := 0.8
david.scale    := $(SCALE)
david.sheet    := $(SHEET)
