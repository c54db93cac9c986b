"""The demo firm's training programme (loaded by ``manage.py seed_demo``): the four courses of the
policy's §五 (confidentiality duties, phishing, devices and paper files, incident reporting), the
confidentiality agreement and the information-security policy, and people in each state —
compliant, due soon, and Charlie, whose confidentiality training is overdue, so his confidential
matters are locked until he passes the quiz."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import Group
from django.utils import timezone

from access.models import Role, User
from matters.models import Classification
from training import services
from training.models import (
    Assignment,
    Course,
    DocumentKind,
    PolicyDocument,
    Question,
    QuestionKind,
    RuleTarget,
)

LITIGATION_TEAM = "Litigation team"  # matters.demo.LITIGATION_TEAM (imported from there would be circular)

# (text, text_zh, kind, [(answer, answer_zh, correct)])
Q = tuple[str, str, str, list[tuple[str, str, bool]]]

COURSES: list[dict] = [
    {
        "title": "Confidentiality duties",
        "title_zh": "保密义务",
        "recurrence_months": 12,
        "passing_score": 75,
        "onboarding": True,
        "required_roles": [Role.LAWYER.value, Role.PARTNER.value],
        "required_from_classification": Classification.CONFIDENTIAL,
        "material": (
            "<h2>Why it matters</h2><p>Everything a client tells us, and everything we learn while acting for "
            "them, is confidential. Lawyers owe this duty by law and by our engagement letters; every member of "
            "staff owes it under the confidentiality agreement.</p>"
            "<h3>What you must do</h3><ul><li>Open only the matters you are granted; ask for access with a "
            "reason when you need more.</li><li>Never discuss a matter in public places, on social media or with "
            "family.</li><li>Keep documents in the firm's systems; never forward them to personal e-mail or "
            "messaging apps.</li><li>Report a suspected leak at once to the security officer.</li></ul>"
        ),
        "material_zh": (
            "<h2>为什么重要</h2><p>客户告诉我们的一切，以及我们在代理过程中了解到的一切，都属于保密信息。"
            "律师依法并依委托合同负有保密义务；每位员工依保密协议负有同样的义务。</p>"
            "<h3>你必须做到</h3><ul><li>只打开已获授权的案件；需要更多权限时，说明理由申请访问。</li>"
            "<li>不在公共场所、社交媒体或与家人谈论案件。</li><li>文件保存在律所系统内；不转发到个人邮箱或聊天软件。</li>"
            "<li>怀疑信息泄露时，立即报告信息安全责任人。</li></ul>"
        ),
        "questions": [
            ("A friend asks about a well-known client's case over dinner. What do you do?",
             "朋友在饭桌上问起一位知名客户的案件，你怎么做？", QuestionKind.SINGLE,
             [("Decline to discuss it", "拒绝谈论", True), ("Share only what is public", "只说公开的信息", False),
              ("Share it if the friend promises secrecy", "朋友答应保密就可以说", False)]),
            ("Which of these are confidential? (Tick all that apply.)", "以下哪些属于保密信息？（多选）",
             QuestionKind.MULTIPLE,
             [("A client's identity", "客户身份", True), ("Documents a client sent us", "客户发来的文件", True),
              ("Our advice to the client", "我们给客户的意见", True),
              ("The firm's public office address", "律所公开的办公地址", False)]),
            ("You need a document from a matter you are not on. What do you do?",
             "你需要一个未获授权案件中的文件，怎么做？", QuestionKind.SINGLE,
             [("Ask for access with a reason", "说明理由申请访问", True),
              ("Ask a colleague on the matter to forward it", "请案件组同事转发给你", False)]),
            ("You suspect a document was sent to the wrong recipient. When do you report it?",
             "你怀疑文件发错了收件人，何时报告？", QuestionKind.SINGLE,
             [("At once, to the security officer", "立即报告信息安全责任人", True),
              ("After checking with the recipient next week", "下周与收件人核实后", False)]),
        ],
    },
    {
        "title": "Recognising phishing",
        "title_zh": "识别钓鱼攻击",
        "recurrence_months": 12,
        "passing_score": 100,
        "required_roles": [Role.LAWYER.value, Role.PARTNER.value, Role.HR.value, Role.ADMINISTRATOR.value,
                           Role.SECURITY_OFFICER.value],
        "material": (
            "<p>Phishing messages imitate clients, courts, banks and colleagues to make you open a link, enter a "
            "password or pay. Check the sender's real address, hover over links before clicking, and never enter "
            "your password after following a link in a message. Use a long passphrase and your authenticator; "
            "never share either.</p>"
        ),
        "material_zh": (
            "<p>钓鱼邮件冒充客户、法院、银行或同事，诱使你点开链接、输入密码或付款。请核对发件人的真实地址，"
            "点击前先查看链接，切勿通过消息中的链接输入密码。使用足够长的密码短语和身份验证器，任何情况下都不要告诉他人。</p>"
        ),
        "questions": [
            ("A 'court' e-mail asks you to sign in through a link to read a judgment. What do you do?",
             "一封“法院”邮件要求你通过链接登录查看判决书，怎么做？", QuestionKind.SINGLE,
             [("Open the court's site yourself, not the link", "自行打开法院网站，不点链接", True),
              ("Sign in through the link quickly", "尽快通过链接登录", False)]),
            ("Which are signs of phishing? (Tick all that apply.)", "以下哪些是钓鱼迹象？（多选）",
             QuestionKind.MULTIPLE,
             [("Urgent pressure to act", "催促你立即行动", True),
              ("A sender address that does not match the name", "发件人地址与名称不符", True),
              ("A request for your password", "索要密码", True)]),
        ],
    },
    {
        "title": "Devices and paper files",
        "title_zh": "设备与纸质文件管理",
        "recurrence_months": 24,
        "passing_score": 80,
        "material": (
            "<p>Lock your screen whenever you step away. Use only firm devices with disk encryption for client "
            "work; report a lost device at once. Paper files leave the office only when signed out, travel in a "
            "locked case, and are shredded — never put in a bin — when no longer needed.</p>"
        ),
        "material_zh": (
            "<p>离开座位时锁定屏幕。处理客户工作只使用已加密的律所设备；设备丢失立即报告。纸质文件须登记后方可带出办公室，"
            "运送时放在上锁的文件箱内，不再需要时用碎纸机销毁，不得丢入垃圾桶。</p>"
        ),
        "questions": [
            ("How do you dispose of a draft printout of a client contract?", "如何处理客户合同的草稿打印件？",
             QuestionKind.SINGLE,
             [("Shred it", "用碎纸机销毁", True), ("Recycling bin", "放入回收箱", False)]),
            ("Your laptop is stolen on a trip. What do you do first?", "出差时笔记本电脑被盗，首先做什么？",
             QuestionKind.SINGLE,
             [("Report it to IT and the security officer at once", "立即报告 IT 和信息安全责任人", True),
              ("Wait until you are back in the office", "等回到办公室再说", False)]),
        ],
    },
    {
        "title": "Reporting a security incident",
        "title_zh": "信息安全事件报告",
        "recurrence_months": 12,
        "passing_score": 100,
        "material": (
            "<p>A security incident is anything that may expose client information: a misdirected e-mail, a lost "
            "file, a suspicious sign-in, malware. Report it to the security officer immediately, with what you "
            "know; do not try to investigate or cover it up. The firm may have to notify the client and the "
            "authorities within hours.</p>"
        ),
        "material_zh": (
            "<p>信息安全事件是指任何可能泄露客户信息的情况：邮件发错、文件丢失、可疑登录、恶意软件等。"
            "请立即将所知情况报告信息安全责任人，不要自行调查或隐瞒。律所可能需要在数小时内通知客户和主管机关。</p>"
        ),
        "questions": [
            ("You sent a client memo to the wrong address. What do you do?", "你把客户备忘录发错了地址，怎么做？",
             QuestionKind.SINGLE,
             [("Report it to the security officer now", "立即报告信息安全责任人", True),
              ("Ask the recipient to delete it and say nothing", "请收件人删除，不再声张", False)]),
        ],
    },
]  # fmt: skip

AGREEMENT_EN = """Confidentiality agreement

1. I will keep confidential all information about the firm's clients and their matters that I learn in the course of my work, during my employment and after it ends.
2. I will use such information only for the firm's work, access only the matters I am authorized to access, and keep it within the firm's systems.
3. I will not disclose it to anyone, inside or outside the firm, who is not authorized to receive it.
4. I will report at once any loss, disclosure or suspected disclosure to the security officer.
5. I understand that breaching this agreement may lead to disciplinary action, dismissal and legal liability."""

AGREEMENT_ZH = """保密协议

一、本人对工作中知悉的律所客户及其案件的一切信息负有保密义务，在职期间及离职后均同样遵守。
二、本人仅为律所工作之目的使用上述信息，只访问已获授权的案件，并将信息保存在律所系统内。
三、本人不向律所内外任何未经授权的人员披露上述信息。
四、发生信息丢失、泄露或疑似泄露时，本人立即报告信息安全责任人。
五、本人知悉，违反本协议可能导致纪律处分、解除劳动合同并承担法律责任。"""

POLICY_EN = """Information security policy (summary)

- Client information is classified as public, internal, confidential or highly confidential, and handled according to its level.
- Access follows the principle of least privilege: granted per matter, for a reason and a period, and reviewed.
- Sign-in uses multi-factor authentication; passwords are never shared.
- Firm devices are encrypted; lost devices are reported at once; paper files are signed out and shredded.
- Security incidents are reported to the security officer immediately."""

POLICY_ZH = """信息安全管理制度（摘要）

- 客户信息分为公开、内部、保密、高度保密四级，按级别处理。
- 访问遵循最小权限原则：按案件授权，说明理由和期限，并定期复核。
- 登录采用多级身份验证；密码不得与他人共享。
- 律所设备须加密；设备丢失立即报告；纸质文件须登记借出并以碎纸机销毁。
- 信息安全事件须立即报告信息安全责任人。"""

# Who has passed which course and signed both documents when the demo starts.
COMPLIANT = ("alice", "dana", "harriet", "adam")
# Charlie's confidentiality training fell due this many days ago: his confidential matters are locked.
CHARLIE_OVERDUE_DAYS = 3


def seed_training(users: dict[str, User]) -> None:
    """Load the programme once: a second run finds the courses present and changes nothing."""
    if Course.objects.exists():
        return
    hr = users["harriet"]
    courses = [_course(spec, hr) for spec in COURSES]
    today = timezone.localdate()
    # HR's own assignments, beside the courses' standing requirements.
    services.assign_course(actor=hr, course=courses[2], target=RuleTarget.ALL_STAFF, due_on=today + timedelta(45))
    litigation = Group.objects.get(name=LITIGATION_TEAM)
    services.assign_course(
        actor=hr, course=courses[3], target=RuleTarget.GROUP, group=litigation, due_on=today + timedelta(21)
    )
    for kind, title, title_zh, text_en, text_zh in (
        (DocumentKind.AGREEMENT, "Confidentiality agreement", "保密协议", AGREEMENT_EN, AGREEMENT_ZH),
        (DocumentKind.POLICY, "Information security policy", "信息安全管理制度", POLICY_EN, POLICY_ZH),
    ):
        document = PolicyDocument.objects.create(kind=kind, title=title, title_zh=title_zh)
        version = services.publish_version(
            actor=hr, document=document, text_en=text_en, text_zh=text_zh, sign_by=today + timedelta(days=14)
        )
        for name in (*COMPLIANT, "bob", "charlie"):
            _sign(users[name], version)
    for name in COMPLIANT:
        for course in courses:
            if Assignment.objects.filter(user=users[name], course=course).exists():
                _pass(users[name], course)
    _pass(users["bob"], courses[0])
    # As if Charlie had been assigned the confidentiality course a month ago and let it slip.
    overdue = today - timedelta(days=CHARLIE_OVERDUE_DAYS)
    Assignment.objects.current().open().filter(user=users["charlie"], course=courses[0]).update(
        due_on=overdue, good_through=overdue, assigned_at=timezone.now() - timedelta(days=30)
    )


def _course(spec: dict, hr: User) -> Course:
    fields = {key: value for key, value in spec.items() if key != "questions"}
    course = services.save_course(actor=hr, course=Course(**fields))
    for text, text_zh, kind, answers in spec["questions"]:
        services.save_question(
            actor=hr,
            question=Question(course=course, text=text, text_zh=text_zh, kind=kind),
            choices=[{"text": a, "text_zh": a_zh, "is_correct": right} for a, a_zh, right in answers],
        )
    return services.publish_course(actor=hr, course=course)


def _pass(user: User, course: Course) -> None:
    attempt = services.start_attempt(user=user, course=course)
    answers = {
        question.pk: [choice.pk for choice in question.choices.all() if choice.is_correct]
        for question in course.questions.prefetch_related("choices")
    }
    services.submit_attempt(user=user, attempt_id=attempt.pk, answers=answers)


def _sign(user: User, version) -> None:
    services.sign_version(
        user=user,
        version=version,
        typed_name=f"{user.first_name} {user.last_name}",
        confirmed=True,
        language="en",
        ip_address="127.0.0.1",
    )
