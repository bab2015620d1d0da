/* synth_names.c - party names of the synthetic stream (opt.names): every account a fixed
 * name from Kazakh, Russian, Arabic and English name pools (some written in Cyrillic),
 * merchants a shop name, and the embedded demo sanctions list whose invented entries the
 * sanctions patterns send (as variants) and the decoys nearly send. */
#include "synth/synth_internal.h"

#include <string.h>

static const char *const kz_given[] = {"Nurlan", "Yerlan", "Dauren", "Bakhyt", "Kanat", "Murat", "Arman", "Askar",
                                       "Daniyar", "Aigerim", "Asel", "Gulnar", "Madina", "Aliya", "Dana", "Saule"};
static const char *const kz_family[] = {"Akhmetov", "Bekov", "Zhakupov", "Ibraimov", "Kenzhebekov", "Mukanov",
                                        "Nurpeisov", "Omarov", "Sultanov", "Utepov", "Baimukhanov", "Amanov",
                                        "Temirbayev", "Smagulov", "Beisenov", "Mamyrov"};
static const char *const kz_cyrillic[] = {"Ахметов Нұрлан", "Жақыпов Ерлан", "Мұқанов Дәурен", "Сұлтанов Қанат",
                                          "Бейсенова Әлия", "Омарова Гүлнар", "Өтепов Мұрат", "Амантаева Сәуле"};
static const char *const ru_given[] = {"Aleksey", "Andrey", "Dmitriy", "Ivan", "Igor", "Pavel", "Roman", "Sergey",
                                       "Olga", "Irina", "Natalya", "Tatyana", "Yelena", "Anna", "Maksim", "Oleg"};
static const char *const ru_family[] = {"Smirnov", "Popov", "Sokolov", "Novikov", "Morozov", "Volkov", "Lebedev",
                                        "Kozlov", "Stepanov", "Orlov", "Makarov", "Nikitin", "Zakharov", "Belov",
                                        "Frolov", "Titov"};
static const char *const ru_cyrillic[] = {"Смирнов Алексей", "Соколова Ольга", "Новиков Андрей", "Морозова Ирина",
                                          "Волков Дмитрий", "Лебедева Анна", "Козлов Игорь", "Орлова Наталья"};
static const char *const ar_given[] = {"Ahmad", "Mohammed", "Ali", "Hassan", "Omar", "Yusuf", "Ibrahim", "Karim",
                                       "Tariq", "Faisal", "Nabil", "Walid", "Fatima", "Aisha", "Mariam", "Layla"};
static const char *const ar_family[] = {"Haddad", "Mansour", "Saleh", "Hamdan", "Barakat", "Darwish", "Farouk",
                                        "Ghanem", "Habib", "Jaber", "Najjar", "Sabbagh", "Tamimi", "Hashemi",
                                        "Obeidi", "Jabouri"};
static const char *const en_given[] = {"James", "John", "Robert", "Michael", "William", "David", "Thomas", "Mary",
                                       "Patricia", "Jennifer", "Linda", "Susan", "Sarah", "Emily", "Daniel", "Laura"};
static const char *const en_family[] = {"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Davis", "Wilson",
                                        "Anderson", "Taylor", "Moore", "Jackson", "Thompson", "White", "Clark",
                                        "Walker"};
static const char *const shop_word[] = {"Altyn", "Samal", "Aqsu", "Dala", "Saryarqa", "Green", "City", "Central",
                                        "Silk Road", "Baiterek", "Orda", "Tulpar", "Esil", "Nomad", "Zhuldyz", "Arai"};
static const char *const shop_kind[] = {"Market", "Foods", "Pharmacy", "Telecom", "Fuel", "Travel", "Books", "Cafe"};

#define PICK16(pool, bits) (pool)[(bits) & 15]

static size_t put(char *buf, size_t cap, size_t at, const char *s) {
    size_t n = strlen(s);
    if (at + n >= cap) n = at < cap ? cap - at - 1 : 0;
    memcpy(buf + at, s, n);
    return at + n;
}

size_t syn_party_name(const struct vg_synth *s, uint64_t index, char *buf, size_t cap) {
    uint64_t h = syn_mix64(index ^ s->salt_bank ^ 0x6e616d6573ULL);
    size_t n = 0;
    if (index < s->n_merchants) {
        n = put(buf, cap, n, PICK16(shop_word, h));
        n = put(buf, cap, n, " ");
        n = put(buf, cap, n, shop_kind[(h >> 4) & 7]);
    } else {
        const char *given, *family;
        switch ((h >> 8) % 10) {
        case 0: n = put(buf, cap, n, kz_cyrillic[(h >> 16) & 7]); break;
        case 1: n = put(buf, cap, n, ru_cyrillic[(h >> 16) & 7]); break;
        case 2:
        case 3:
            given = PICK16(kz_given, h >> 16), family = PICK16(kz_family, h >> 20);
            n = put(buf, cap, put(buf, cap, put(buf, cap, n, given), " "), family);
            break;
        case 4:
        case 5:
            given = PICK16(ru_given, h >> 16), family = PICK16(ru_family, h >> 20);
            n = put(buf, cap, put(buf, cap, put(buf, cap, n, given), " "), family);
            break;
        case 6:
        case 7:
            given = PICK16(ar_given, h >> 16), family = PICK16(ar_family, h >> 20);
            n = put(buf, cap, put(buf, cap, put(buf, cap, n, given), " "), PICK16(ar_given, h >> 24));
            n = put(buf, cap, put(buf, cap, n, (h >> 28) & 1 ? " al-" : " "), family);
            break;
        default:
            given = PICK16(en_given, h >> 16), family = PICK16(en_family, h >> 20);
            n = put(buf, cap, put(buf, cap, put(buf, cap, n, given), " "), family);
        }
    }
    buf[n] = '\0';
    return n;
}

/* The demo list: invented people and companies (any likeness to a real list entry is not
 * intended), in vigil's TSV (docs/SCREENING.md). */
static const char demo_list[] =
    "reference\ttype\tname\taliases\tbirth_dates\tidentifiers\n"
    "# vigil demo sanctions list: invented entries for the synthetic stream (vigild --demo, vigil-gen --names)\n"
    "DEMO-001\tperson\tСерікжанов Болат Ерланұлы\tBolat Serikzhanov\t1971-04-12\t710412300456\n"
    "DEMO-002\tperson\tГромыхалов Виктор Андреевич\tViktor Andreyevich Gromykhalov\t1966\t\n"
    "DEMO-003\tperson\tKhalil Ibrahim al-Tarabulsi\tAbu Hamza al-Tarabulsi;~Abu Hamza\t1975..1977\t\n"
    "DEMO-004\tperson\tӘміржанова Гүлназ Тұрсынбекқызы\tGulnaz Amirzhanova\t1983-09-30\t\n"
    "DEMO-005\tentity\tCaspian Meridian Trading LLP\tКаспий Меридиан Трейдинг\t\tBIN 090440015566\n"
    "DEMO-006\tentity\tNorthern Lights Shipping Co\tNorthern Lights Maritime\t\tIMO 9411122\n";

const char *vg_synth_sanctions_list(void) { return demo_list; }

/* Sent names: listed parties as a bank would send them (another order, another script,
 * without a patronymic or a legal form), and near misses that must stay quiet. */
const struct syn_named syn_sanctioned[SYN_SANCTIONED] = {
    {"Serikzhanov Bolat", true},
    {"ГРОМЫХАЛОВ Виктор Андреевич", false},
    {"Caspian Meridian Trading", true},
    {"Амиржанова Гульназ", false},
    {"Khalil Ibrahim Tarabulsi", true},
    {"Bolat Yerlanuly Serikzhanov", false},
};
const struct syn_named syn_sanction_decoys[SYN_SANCTIONED] = {
    {"Bolat Serikbayev", true},
    {"Viktor Gromov", false},
    {"Caspian Grain Company", true},
    {"Gulnaz Amirova", false},
    {"Khalil Ibrahim Haddad", true},
    {"Bolat Nurlanuly Zhakupov", false},
};
