"""What happened to assessments and incidents, for the apps above that must react (the
roll-up recounts the unit's township). Sent after commit; inspections imports no report.

assessment_decided(assessment_id, unit_id, campaign_id, year, action)
    action: "approved", "returned", "overturned" — whatever can change attainment.
incident_changed(incident_id, unit_id, years, action)
    action: "recorded", "confirmed", "dismissed", "referred_up", "resolution:…"; years: the
    calendar years it touches.
condition_changed(unit_id, year, kind, action)
    a unit's condition (零盲区) confirmed or revoked for a year.
"""

from django.dispatch import Signal

assessment_decided = Signal()
incident_changed = Signal()
condition_changed = Signal()
