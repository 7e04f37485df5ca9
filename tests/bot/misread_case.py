"""The takeover case the card tests share: a Qingpu renter whose "是滴" to the spouse question the
assistant misread as the spouse already receiving the subsidy (so the points rent subsidy came out ❌)."""

LAST_RESULT = [{"policy_id": "qingpu.housing.points_rent_subsidy", "status": "ineligible"}]

MISREAD_SLOTS = {
    "district": "青浦",
    "education": "本科",
    "rents_in_district": True,
    "owns_home_in_district": False,
    "spouse_receives_rent_subsidy": True,
    "employer_registered_in_district": True,
    "tax_and_social_insurance_in_district": True,
    "has_residence_permit": True,
    "talent_points": 130,
    "topic": "rent_subsidy",
    "last_result": LAST_RESULT,
}
