"""The events a write sends (HX-Trigger) so the parts of a page that show what it changed
refresh in place: the 360 sections listen to them (`hx-trigger="ctaChanged from:body"`).

They live here, below `layouts`, because the success views send them and the section kinds
listen to them: both import this module, neither imports the other.
"""

from __future__ import annotations

SUBJECT_CHANGED = "subjectChanged"  # the company's or relationship's own fields
ACTIVITY_LOGGED = "activityLogged"  # a timeline activity logged, edited or deleted
CTA_CHANGED = "ctaChanged"  # a CTA or task created, changed or closed
SCORE_CHANGED = "scoreChanged"  # a scorecard measure's score set
PLAN_CHANGED = "planChanged"  # a success plan or its objectives changed
EVERY_CHANGE = (SUBJECT_CHANGED, ACTIVITY_LOGGED, CTA_CHANGED, SCORE_CHANGED, PLAN_CHANGED)
