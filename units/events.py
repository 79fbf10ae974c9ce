"""What happened to units, for the apps above that must react (the roll-up recounts the
townships named). Sent after commit (sanling.kernel.events.send_after_commit).

units_changed(action, unit_ids, townships, effective_on)
    action: "registered", "updated", "rekinded", "archived", "restored", "moved", "imported";
    unit_ids: the units concerned; townships: every township code whose figures the change
    touches (for a move, the old township and the new one); effective_on: the day the
    change takes effect (the years before it keep the unit as it was).

tree_changing(kind, sources, prefixes)
    sent inside the transaction before a change of the tree is applied: a receiver may
    refuse it by raising ServiceError (standards: a campaign's scope must not end).

tree_changed(change_id, effective_on, regions)
    a recorded change of the tree (merge, split, move, recode) took effect on a day: the
    regions it ended and began; every year from that day is counted anew.
"""

from django.dispatch import Signal

units_changed = Signal()
tree_changed = Signal()
tree_changing = Signal()
