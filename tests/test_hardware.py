"""Machine identity: read from /proc/cpuinfo text, and enough to tell two "AMD EPYC" VMs apart."""

from synthetic import make_hardware, paired_record

from convcarbon.records.hardware import core_count_in_name, cpu_identity
from convcarbon.site.shown import machine_records
from convcarbon.training.analyze.machines import machine_key
from convcarbon.training.analyze.report import machine_label

ZEN2_CPUINFO = """processor\t: 0
vendor_id\t: AuthenticAMD
cpu family\t: 23
model\t\t: 49
model name\t: AMD EPYC
stepping\t: 0
flags\t\t: fpu sse4_2 avx avx2 hypervisor

processor\t: 1
vendor_id\t: AuthenticAMD
"""
ZEN5_CPUINFO = ZEN2_CPUINFO.replace("23", "26").replace("49", "2").replace("avx2", "avx2 avx512f")
ARM_CPUINFO = """processor\t: 0
BogoMIPS\t: 50.00
Features\t: fp asimd evtstrm aes sve sve2
CPU implementer\t: 0x41
CPU architecture: 8
CPU variant\t: 0x0
CPU part\t: 0xd4f
CPU revision\t: 1
"""


def test_x86_identity_reads_family_model_stepping_vector_extension_and_vm():
    zen2 = cpu_identity(ZEN2_CPUINFO, system="Linux")
    assert zen2 == {
        "cpu_model": "AMD EPYC",
        "cpu_vendor": "AuthenticAMD",
        "cpu_family": 23,
        "cpu_model_number": 49,
        "cpu_stepping": 0,
        "vector_extension": "AVX2",
        "virtual_machine": True,
    }
    zen5 = cpu_identity(ZEN5_CPUINFO, system="Linux")
    assert (zen5["cpu_family"], zen5["cpu_model_number"], zen5["vector_extension"]) == (26, 2, "AVX-512")


def test_arm_identity_reads_implementer_part_and_widest_vector_extension():
    arm = cpu_identity(ARM_CPUINFO, system="Linux")
    assert arm["cpu_vendor"] == "Arm implementer 0x41"
    assert arm["cpu_model_number"] == 0xD4F and arm["cpu_stepping"] == 1
    assert arm["vector_extension"] == "SVE2"
    assert cpu_identity(ARM_CPUINFO.replace(" sve sve2", ""), system="Linux")["vector_extension"] == "NEON"


def test_unknown_fields_stay_unknown():
    identity = cpu_identity("", system="Linux")
    assert identity["cpu_family"] is None and identity["vector_extension"] is None
    assert identity["virtual_machine"] is None


def test_core_count_is_read_only_where_the_name_states_it():
    assert core_count_in_name("AMD EPYC 7763 64-Core Processor") == 64
    assert core_count_in_name("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz") is None


def test_records_differing_only_in_cpu_family_or_vector_extension_are_two_machines():
    zen2 = paired_record(
        [0.01] * 3, [0.009] * 3, hardware=make_hardware("AMD EPYC", cpu_family=23, vector_extension="AVX2")
    )
    zen5 = paired_record(
        [0.01] * 3,
        [0.009] * 3,
        hardware=make_hardware("AMD EPYC", cpu_family=26),
        created="2026-02-01T00:00:00+00:00",
        fingerprint="cd" * 32,
    )
    avx2_zen5 = paired_record(
        [0.01] * 3,
        [0.009] * 3,
        hardware=make_hardware("AMD EPYC", cpu_family=26, vector_extension="AVX2"),
        fingerprint="ef" * 32,
    )
    assert len({machine_key(zen2), machine_key(zen5), machine_key(avx2_zen5)}) == 3
    for options in ({}, {"backend": True}, {"short": True, "backend": True, "profile": True}):
        labels = [machine_label(record, **options) for record in (zen2, zen5, avx2_zen5)]
        assert len(set(labels)) == 3, options  # every label tells the three machines apart
        assert "family 23" in labels[0] and "AVX2" in labels[2]
    xeons = [  # two Xeons that differ only by their model number, as two of the book's records do
        paired_record([0.01] * 3, [0.009] * 3, hardware=make_hardware("Intel(R) Xeon(R)", cpu_model_number=number))
        for number in (167, 207)
    ]
    assert len({machine_label(xeon, short=True, backend=True, profile=True) for xeon in xeons}) == 2
    shown = machine_records(zen5, [zen2, zen5, avx2_zen5])
    assert sorted(record["fingerprint"] for record in shown) == ["ab" * 32, "cd" * 32, "ef" * 32]


def test_same_machine_keeps_only_its_newest_record():
    older = paired_record([0.01] * 3, [0.009] * 3)
    newer = paired_record([0.01] * 3, [0.008] * 3, created="2026-03-01T00:00:00+00:00", fingerprint="cd" * 32)
    other = paired_record([0.01] * 3, [0.009] * 3, hardware=make_hardware(cpu_count=4), fingerprint="ef" * 32)
    assert [record["fingerprint"] for record in machine_records(other, [older, newer, other])] == ["cd" * 32, "ef" * 32]
