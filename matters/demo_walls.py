"""The demo firm's ethical walls, conflict checks, emergency access and access review
(loaded by ``manage.py seed_demo`` after the firm itself, ``matters.demo``).

- Erin joined from a firm that acted for Li Ming, the adverse party in 2026-LIT-0002: an
  exclusionary wall keeps her out of that matter although her litigation team holds it.
- Bob has opened 2026-LIT-0005 for Orion Semiconductor at intake: the check found Orion as the
  adverse party of 2026-LIT-0001, and waits for Connie, the conflicts partner.
- Bob opened 2026-EMP-0001 in an emergency: Dana has an alert and a review to do.
- Dana started the quarter's access review: Alice has her matters' grants to confirm or revoke.
Each part is made once; a second load finds it and changes nothing.
"""

from __future__ import annotations

from access.break_glass import open_in_emergency
from access.models import AccessReviewCampaign, BreakGlassAccess, EthicalWall, User, WallKind
from access.reviews import start_campaign
from access.wall_services import erect_wall
from audit.detection import run_detection
from matters.intake_services import NewClient, open_matter
from matters.models import Classification, IdentifierType, Matter, PracticeArea

INTAKE_NUMBER = "2026-LIT-0005"
WALLED_NUMBER = "2026-LIT-0002"
EMERGENCY_NUMBER = "2026-EMP-0001"


def seed_walls(users: dict[str, User]) -> None:
    if not EthicalWall.objects.exists():
        matter = Matter.objects.get(number=WALLED_NUMBER)
        erect_wall(
            actor=users["connie"],
            kind=WallKind.EXCLUSIONARY,
            client=matter.client,
            matter=matter,
            people=[users["erin"]],
            reason="Erin acted for Li Ming, the adverse party, at her former firm (2025).",
            memo=(
                "You are screened from 2026-LIT-0002. Do not open it, discuss it with the litigation team "
                "or pass on anything you know about Li Ming. Ask Connie if in doubt."
            ),
        )
    if not Matter.objects.filter(number=INTAKE_NUMBER).exists():
        open_matter(
            actor=users["bob"],
            number=INTAKE_NUMBER,
            title="Orion Semiconductor — export licence advice",
            practice_area=PracticeArea.IP,
            classification=Classification.CONFIDENTIAL,
            responsible_partner=users["alice"],
            # As fake as the other clients' identifiers (matters.demo: area code 999999 is nobody's).
            new_client=NewClient(
                name="Orion Semiconductor Ltd.", id_type=IdentifierType.USCC, id_number="91999999MA00000068"
            ),
        )
    if not BreakGlassAccess.objects.exists():
        open_in_emergency(
            user=users["bob"],
            number=EMERGENCY_NUMBER,
            reason="The client's general counsel called at 22:00: the works council meets tomorrow at 08:00.",
        )
    if not AccessReviewCampaign.objects.exists():
        start_campaign(actor=users["dana"], name="Access review, fourth quarter 2026")
    run_detection()  # the alert for Bob's emergency access (the job does this every minute)
