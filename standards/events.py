"""What happened to campaigns, for the apps above (the roll-up recomputes the campaign's
years in full: its scope, categories, pass mark or targets changed). Sent after commit.

campaign_changed(campaign_id)
"""

from django.dispatch import Signal

campaign_changed = Signal()
