"""Locust users for bench/load.py: township officers saving their draft assessments
through the entry page, and staff reading dashboards. Plain HTTP: no Django imports here
(locust runs under gevent). Configuration comes from the JSON file in $SANLING_LOAD_PLAN;
each officer's successful saves are written to $SANLING_LOAD_OUT when the run stops.
Users arrive signed in (sessions made by bench/load.py)."""

import json
import os
import random
import re
from collections import Counter

import gevent
from locust import HttpUser, between, events, task

PLAN = json.loads(open(os.environ["SANLING_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
OFFICERS = list(PLAN["officers"])  # [{"username", "session", "assessment"}]
STAFF = list(PLAN["staff"])  # session keys
SAVED: Counter = Counter()
TIMES: list = []  # (request name, wall-clock start, milliseconds): split by bench/load.py
LOCK = re.compile(r'name="lock_version" value="(\d+)"')
# each item's input: its id, its full marks and whether it is a veto item (full marks or 0)
SCORE = re.compile(r'name="score_(\d+)"[^>]*?data-max="([\d.]+)" data-veto="(\d)"')


class Officer(HttpUser):
    weight = PLAN["officer_weight"]
    wait_time = between(*PLAN["officer_think"])

    def on_start(self):
        me = OFFICERS.pop()
        self.assessment = me["assessment"]
        self.client.cookies.set("sessionid", me["session"])
        # officers come to their desks over a think time, not all in the same second
        gevent.sleep(random.uniform(0, PLAN["officer_think"][1]))  # noqa: S311 - load timing

    @task
    def save(self):
        url = f"/assessments/{self.assessment}/edit/"
        page = self.client.get(url, name="entry page")
        lock, items = LOCK.search(page.text).group(1), SCORE.findall(page.text)
        data = {
            "csrfmiddlewaretoken": self.client.cookies["csrftoken"],
            "lock_version": lock,
            "action": "save",
            **{
                f"score_{i}": (random.choice(["0", full]) if veto == "1" else str(random.randint(0, 2)))
                for i, full, veto in items
            },
        }  # noqa: S311 - load data
        with self.client.post(url, data, name="save scores", allow_redirects=False, catch_response=True) as r:
            if r.status_code == 302:
                SAVED[self.assessment] += 1
                r.success()
            else:
                r.failure(f"save answered {r.status_code}")


class Staff(HttpUser):
    weight = PLAN["staff_weight"]
    wait_time = between(*PLAN["staff_think"])

    def on_start(self):
        self.client.cookies.set("sessionid", STAFF.pop())

    @task(3)
    def province_dashboard(self):
        self.client.get(f"/reports/?campaign={PLAN['campaign']}&year={PLAN['year']}", name="province dashboard")

    @task(2)
    def city_dashboard(self):
        city = random.choice(PLAN["cities"])  # noqa: S311 - load data
        self.client.get(
            f"/reports/?campaign={PLAN['campaign']}&year={PLAN['year']}&region={city}", name="city dashboard"
        )

    @task(1)
    def ledger(self):
        self.client.get("/supervision/rectifications/", name="rectification ledger")


@events.spawning_complete.add_listener
def reset(**kwargs):  # as locust's --reset-stats does: the arrival is not the load
    TIMES.clear()


@events.request.add_listener
def timed(name, response_time, start_time=None, **kwargs):
    TIMES.append((name, start_time, response_time))


@events.test_stop.add_listener
def dump(environment, **kwargs):
    with open(os.environ["SANLING_LOAD_OUT"], "w", encoding="utf-8") as f:
        json.dump({"saved": {str(k): v for k, v in SAVED.items()}, "times": TIMES}, f)
