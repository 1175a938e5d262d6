package faq

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vigie-bot/vigie/rules"
)

// What every brand's public asks customer service, in French and English: a CM
// writes two or three examples for an entry, and the entry inherits the
// wordings of the intent they ask, so that "c'est ouvert lundi ?" finds the
// entry whose examples were "quels sont vos horaires ?".
//
// The lexicon has two parts. Concepts are groups of words read as one term
// (every day of the week is a day; a parcel is a colis), like the file's
// synonyms. Intents are the questions customer service is asked, each with
// the ways the public words it; they are the hidden examples of the entries
// that ask the same. Both are written from what customer service is asked,
// never from an evaluation set. Words are folded (no accents); typos and
// spoken forms are read by the text folding, the slang table and the typo
// correction, not listed here.

// concepts is one concept a line: its name, a colon, then its words and
// phrases, separated by commas. A phrase is read on its content words, stop
// words left out ("mot de passe" is mot passe).
const concepts = `
open: ouvert, ouverte, ouverts, ouvertes, ouvre, ouvrez, ouvrent, ouvrira, ouverture, open, opens, opening, opened
close: ferme, fermez, fermee, fermes, fermer, ferment, fermera, fermeture, close, closes, closing, closed, shut, shuts
hours: horaire, horaires, hours, timetable, timetables, schedule, schedules, planning, "opening times", "heures d'ouverture", "opening hours", "fiche horaire"
time: heure, heures, hour, time, times
day: journee, journees, lundi, mardi, mercredi, jeudi, vendredi, samedi, dimanche, monday, tuesday, wednesday, thursday, friday, saturday, sunday, mondays, sundays, saturdays, weekend, "week end", weekends, ferie, feries, feriee, holiday, holidays, "bank holiday", "jour ferie", noel, christmas, demain, tomorrow, tonight, soir, matin, morning, aprem, "apres midi", afternoon, midi, noon, evening, "1er mai", paques, easter, "nouvel an", "new year", "new years", reveillon, "saint sylvestre", lendemain, nuit, nuits, night, nights, overnight, vacances, vacance, janvier, fevrier, avril, juin, juillet, aout, septembre, octobre, novembre, decembre, january, february, april, june, july, august, september, october, november, december, summer, winter, hiver, automne, autumn, lunch, lunchtime, dejeuner, "pause dejeuner", "pause midi", midday
deliver: "frais de port", "shipping cost", "shipping costs", postage, livraison, livraisons, livrer, livrez, livre, livres, livree, livrees, livrent, livreur, delivery, deliveries, deliver, delivers, delivered, shipping, ship, ships, shipped, shipment, expedition, expedier, expediez, expedie, expediee, dispatch, dispatched, courier, transporteur, colissimo, chronopost, "mondial relay", ups, dhl, fedex
parcel: colis, parcel, parcels, package, packages, paquet
order: commande, commandes, commander, commandee, commandez, order, orders, ordered, ordering, achat, achats, purchase, purchased
abroad: morocco, etranger, international, internationale, internationally, abroad, overseas, worldwide, europe, europeen, belgique, suisse, canada, quebec, luxembourg, allemagne, espagne, italie, portugal, angleterre, "royaume uni", uk, usa, "etats unis", "united states", america, amerique, germany, spain, italy, belgium, switzerland, dom, "outre mer", maroc, algerie, tunisie, country, countries, pays
delay: delai, delais, long, duree, days, jours, semaines, weeks, quickly, rapidement, vite, express, fast
receive: recu, recue, recus, recevoir, recois, recevez, receive, received, receiving, arrive, arrivee, arriver, arrives, arrived, arriving, "pas arrive", "never arrived", "not arrived", "still waiting", attends, attente
track: suivi, suivre, tracking, track, tracker, traced, "numero de suivi", "tracking number", "order status", "statut de commande", "etat de ma commande"
lost: "objets trouves", "objet trouve", "objets perdus", "lost and found", "lost property", retrouve, retrouver, retrouvee, found, perdu, perdue, perdus, perte, lost, lose, vole, volee, voler, stolen, stole, opposition, missing, disparu, egare, egaree, egares, egarees, misplaced
return: retour, retours, retourner, retourne, renvoyer, renvoi, renvoie, rendre, "send back", "sent back", return, returns, returned, returning, rapporter, rapporte, ramener, "bring back", "bring it back"
refund: rembourser, remboursement, remboursements, rembourse, remboursee, refund, refunds, refunded, refunding, "money back", "mon argent", indemnise, indemnisee, indemnisation, indemniser, dedommagement, dedommage, dedommager, compensation, compensated, compensate
exchange: echanger, echange, echanges, exchange, exchanges, exchanged, swap
size: taille, tailles, pointure, pointures, size, sizes, sizing, fit, fits, "trop petit", "trop grand", "too small", "too big"
contact: contacter, contact, contactez, joindre, joignable, joignables, reachable, reach, "get in touch", touch, ecrire, write, "service client", "service clients", "service clientele", "customer service", "customer support", sav, "service apres vente", support, conseiller, conseillere, advisor, adviser, humain, human, "vraie personne", "real person", agent, "after sales", "apres vente", aftersales
phone: "numero de telephone", "phone number", "telephone number", "par telephone", "au telephone", "by phone", "over the phone", "phone call", telephoner, numero, numeros, appeler, appelle, appel, call, calling, hotline, standard
email: mail, mails, email, emails, courriel, "e mail", "adresse mail", "email address"
chat: chat, "live chat", tchat, messagerie, whatsapp, messenger, dm
job: recrutez, recrute, recrutement, recruter, recrutent, embauche, embauchez, embaucher, embauchent, emploi, emplois, job, jobs, poste, postes, postuler, candidature, candidatures, candidater, cv, resume, hiring, hire, hires, vacancy, vacancies, position, positions, career, careers, travailler, stage, stages, stagiaire, stagiaires, alternance, alternant, alternants, apprentissage, apprenti, internship, internships, intern, interns, apprenticeship, "job etudiant", "offre d'emploi", "offres d'emploi", "job offer", "job offers", apply, applying, openings, saisonnier, saisonniers, saisonniere, saisonnieres, "job d'ete", "jobs d'ete", "summer job", "summer jobs", "seasonal job", "seasonal jobs", "seasonal work", "seasonal staff", "seasonal workers", bosser, "job d'ete", apprentice, apprentices
staff: serveuse, serveuses, cuisinier, cuisiniers, cuisiniere, commis, plongeur, plongeurs, barman, barmaid, waitress, waitresses, vendeur, vendeurs, vendeuse, vendeuses, caissier, caissiers, caissiere, caissieres, receptionniste, receptionnistes, cashier, cashiers, "sales assistant", "sales assistants"
price: prix, tarif, tarifs, tarification, cout, coute, coutent, couter, price, prices, pricing, priced, cost, costs, cher, chere, expensive, cheap, euros, dollars, frais, fee, fees, charge, charges, payant, payante, devis, estimate, estimates, quote, quotes, quotation, chiffrage
free: gratuit, gratuite, gratuits, gratuitement, free
promo: promo, promos, promotion, promotions, soldes, reduction, reductions, remise, remises, reduit, reduite, reduced, discount, discounts, sale, sales, coupon, coupons, "code promo", "promo code", "discount code", "bon plan", "black friday", offer, offers, deal, deals, offre, offres
loyalty: fidelite, fidele, loyalty, reward, rewards, points, parrainage, referral, miles, mile, "frequent flyer", "air miles"
pay: payer, paye, payez, paiement, paiements, payment, payments, pay, paying, paid
paymethod: cesu, "cheque emploi service", "cheques emploi service", "chequier emploi service", "titre emploi service", "carte bancaire", "cartes bancaires", "carte de credit", "credit card", "debit card", "carte de debit", especes, cash, liquide, cheque, cheques, paypal, "apple pay", "google pay", lydia, "sans contact", contactless, "ticket restaurant", "tickets restaurant", "titre restaurant", "titres restaurant", "ticket resto", "tickets resto", "meal voucher", "plusieurs fois", installments, klarna, "carte bleue", mastercard, visa, amex, "american express", "split the cost", "split the payment", instalments, instalment, mensualites, "en plusieurs mensualites", "pay monthly"
card: carte, cartes, card, cards, cb
stock: "out of stock", stock, stocks, restock, reassort, disponible, disponibles, disponibilite, available, availability, rupture, "sold out", epuise, epuisee, "back in stock", "en stock"
store: magasin, magasins, boutique, boutiques, restaurant, restaurants, resto, restos, bistrot, bistrots, bistro, bistros, brasserie, brasseries, store, stores, shop, shops, agence, agences, branch, branches, "point de vente", "points de vente", enseigne, succursale, salle, salles, club, clubs, gym, gyms, atelier, ateliers, showroom, clinique, cliniques, clinic, clinics, cabinet, cabinets, hotel, hotels, office, offices, bureau, bureaux, cinema, cinemas, pharmacie, pharmacies, pharmacy
address: adresse, adresses, address, addresses, located, situe, situee, situes, situees, localisation, quartier, neighbourhood, neighborhood, itineraire, directions
where: location, locations, proche, near, nearest, nearby, pres, "pas loin", "a cote", trouve, trouver, find
city: rural, village, villages, campagne, "zone blanche", paris, lyon, marseille, lille, bordeaux, toulouse, nantes, nice, strasbourg, montpellier, rennes, grenoble, rouen, toulon, dijon, angers, reims, nancy, metz, tours, brest, limoges, caen, orleans, bruxelles, geneve, lausanne, montreal, london, londres, berlin, madrid, ville, city, town, centre, downtown
app: app, apps, appli, applis, application, applications, site, website, "site web", "site internet", online, "sur internet"
account: compte, comptes, account, accounts, profil, profile, espace, identifiant, identifiants, username
password: "mot de passe", mdp, password, passwords, passcode, pwd, "code secret", pin
login: log, connecter, connexion, connecte, connect, connecting, connection, login, "log in", "sign in", signin, logged, loguer
forgot: oublie, oublier, oubliee, forgot, forget, forgotten
change: changer, change, modifier, modification, modifications, update, corriger, correct, correction, rectifier, mettre, reinitialiser, reinitialisation, reset, recuperer, recover
delete: supprimer, suppression, delete, deleting, remove
hacked: pirate, piratee, hacked, hack, usurpation, compromised, fraude, fraud, arnaque, scam
bug: bug, bugs, beug, bugge, crash, crashes, crashed, crashing, plante, planter, freeze, freezes, freezing, frozen, fige, glitch, glitches, erreur, error, errors, "ecran noir", "black screen", lag, lags, "marche pas", "ne marche", "fonctionne pas", "not working", "doesn t work", allume, rallume, clignote, blinking, broken, corrompu, corrupted, corrupt
server: serveur, serveurs, server, servers, down, panne, pannes, outage, outages, offline, maintenance, status, "hors ligne", hs, coupure, coupures, incident, incidents, "internet coupe", "reseau coupe", "ligne coupee", "fibre coupee", "no signal", "no service"
release: sortie, sortir, sort, sortira, sortent, release, released, releases, "launch date", "date de lancement", "come out", "comes out", "coming out", out, parution, date
platform: ps4, ps5, playstation, xbox, switch, nintendo, pc, mac, macos, steam, epic, mobile, android, ios, console, consoles, platform, platforms, plateforme, plateformes, linux, version
booking: rendez, "rendez vous", rdv, appointment, appointments, booking, bookings, book, booked, reserver, reservation, reservations, reserve, reserved, resa, table, tables, precommande, preorder, "pre order", "pre commander", louer, loue, louez, louent, rent, rents, renting, rental, rentals, creneau, creneaux, slot, slots, consultation, consultations, consulter, "walk in", "walk ins", walkin, walkins
cancel: skip, skipping, sauter, annuler, annulation, annule, cancel, cancelled, canceled, cancellation, resilier, resiliation, resilie, desabonner, desabonne, desinscrire, unsubscribe, terminate, termination, "mettre fin", suspendre, suspension, suspend, arreter, stopper, pause, paused, pausing, "mettre en pause", stop, stopping
damaged: defectueux, defectueuse, abime, abimee, casse, cassee, damaged, defective, defect, "mauvais article", "wrong item", "article manquant", incomplet, incomplete, "missing piece", "missing pieces", "missing parts"
warranty: garantie, garanti, garanties, warranty, guarantee, guaranteed
invoice: facture, factures, facturation, invoice, invoices, receipt, receipts, "ticket de caisse", bill, bills, billing, billed, prelevement, prelevements, preleve, "direct debit", overcharged, surfacturation, "hors forfait"
giftcard: "carte cadeau", "cartes cadeaux", "carte cadeaux", "bon cadeau", "bons cadeaux", "cheque cadeau", "cheques cadeaux", "gift card", "gift cards", "gift voucher", "gift vouchers", "gift certificate", "bon d'achat", voucher, vouchers
allergen: porc, "sans porc", "low carb", "sans sucre", "sugar free", keto, "sans viande", allergene, allergenes, allergie, allergies, allergique, allergic, allergy, gluten, lactose, vegan, vegetalien, vegetarien, vegetarienne, vegetariens, vegetariennes, vegetarian, veggie, vege, vegane, vegans, arachide, arachides, noix, nuts, peanut, peanuts, dairy, oeuf, oeufs, egg, eggs, halal, casher, kosher, ingredient, ingredients, coeliaque, coeliaques, celiac, coeliac, intolerance, intolerances, intolerant, intolerante, lait, milk, soja, soy, sesame, moutarde, mustard
loan: pret, prets, credit, credits, emprunt, emprunter, loan, loans, mortgage, mortgages, borrow, "taux d'interet", "interest rate", immobilier, conso
transfer: virement, virements, transfer, transfers, wire, "envoyer de l'argent", "send money", sepa, iban, rib
signup: inscris, inscrit, inscrite, inscrits, inscrites, souscrire, subscribe, "devenir client", "become a customer", "sign up", signup, inscrire, inscription, inscriptions, register, registration, enrol, enroll, enrolment, enrollment
iddoc: "carte d'identite", "carte identite", identite, cni, passeport, passeports, passport, passports, "id card", "titre de sejour", permis
waste: "throw away", dispose, disposal, poubelle, poubelles, dechet, dechets, ordure, ordures, encombrant, encombrants, collecte, ramassage, dechetterie, dechetteries, bin, bins, trash, garbage, rubbish, recycling, recyclage, tri, "dechets verts"
school: ecole, ecoles, school, schools, scolaire, cantine, maternelle, primaire, creche, periscolaire, college, enfant, enfants, child, children, kid, kids, fils, fille, son, daughter, cp
parking: stationnement, stationner, parking, parkings, park, garer, "carte resident", "resident permit", "parking permit", horodateur
device: telephone, telephones, phone, phones, iphone, iphones, ipad, ipads, smartphone, smartphones, portable, portables, tablette, tablettes, tablet, tablets, ordinateur, ordinateurs, ordi, laptop, laptops, appareil, appareils, device, devices
part: ecran, ecrans, screen, screens, batterie, batteries, battery, vitre, vitres, glass, camera, cameras, "port de charge", "charging port", "haut parleur", speaker, bouton, boutons, button, buttons
repair: reparation, reparations, reparer, reparez, repare, reparee, repair, repairs, repaired, repairing, fix, fixed, fixing, depannage, depanner, remplacer, remplacement, replace, replacement
secondhand: reconditionne, reconditionnes, reconditionnee, reconditionnees, occasion, occasions, "seconde main", "second hand", secondhand, refurbished, refurb, "pre owned", preowned, rachat, racheter, rachetez, rachete, reprise, "trade in", "buy back", buyback
ready: "jour meme", "same day", "while you wait", "while i wait", "dans la journee", "en une heure", "within the hour"
subscription: plan, plans, abonnement, abonnements, abo, abos, abonne, abonnee, abonnes, abonner, abonnez, membership, memberships, adhesion, adherent, subscription, subscriptions, forfait, forfaits, contrat, contrats, contract, contracts, engagement, commitment, "monthly pass", "annual pass", "yearly pass", "bus pass", "travel pass", "season ticket", "carte d'abonnement"
audience: ans, age, etudiant, etudiants, etudiante, etudiantes, student, students, jeune, jeunes, youth, senior, seniors, retraite, retraites, enfant, famille, family, couple, couples
trial: essai, essais, essayer, essayez, trial, trials, decouverte, tester, "free trial", "seance d'essai", "cours d'essai"
class: cours, class, classes, lesson, lessons, seance, seances, workshop, workshops, coach, coaching, coachs
ticket: billet, billets, ticket, tickets, fare, fares, "titre de transport", "titres de transport", "aller simple", "aller retour", "single ticket", "return ticket", "day ticket", carnet, carnets
transport: avion, avions, vol, vols, flight, flights, plane, planes, fly, flying, aeroport, aeroports, airport, airports, terminal, "compagnie aerienne", airline, airlines, bus, autobus, autocar, autocars, train, trains, ter, tgv, intercites, tram, trams, tramway, metro, rer, navette, navettes, shuttle, coaches, ligne, lignes, line, lines, gare, gares, station, stations, quai, quais, "arret de bus", "bus stop", trajet, trajets, journey, rail, railway
next: prochain, prochaine, prochains, prochaines, next, dernier, derniere, last, premier, premiere, first, frequence, frequency, often
late: retard, retards, retarde, retardee, late, delayed, delay, delays
disruption: perturbation, perturbations, perturbe, perturbee, perturbes, greve, greves, strike, strikes, "mouvement social", trafic, traffic, travaux, disruption, disruptions, disrupted, interrompu, interrompue, interruption, deviation, devie, diverted, diversion
belongings: affaires, belongings, sac, sacs, "sac a dos", portefeuille, "porte monnaie", cles, clefs, parapluie, lunettes, veste, manteau, doudou, bag, bags, backpack, wallet, purse, keys, umbrella, jacket, coat
carry: velo, velos, bike, bikes, bicycle, bicycles, trottinette, trottinettes, scooter, scooters, poussette, poussettes, stroller, strollers, pushchair, pram, "siege auto", "car seat"
luggage: bagage, bagages, baggage, baggages, valise, valises, luggage, suitcase, suitcases, "hand luggage", "carry on", "checked bag", "checked bags", poids, weight, dimensions, lourd, heavy
cabin: cabine, cabin, soute, "a bord", "on board", onboard
pet: chien, chiens, chiot, chiots, chat, chats, chaton, animal, animaux, "animal de compagnie", "animaux de compagnie", lapin, lapins, dog, dogs, puppy, cat, cats, kitten, pet, pets, rabbit
assist: pmr, "mobilite reduite", "reduced mobility", mobilite, handicap, handicape, handicapee, handicapes, disabled, disability, "fauteuil roulant", fauteuil, wheelchair, wheelchairs, "personne agee", "personnes agees", elderly, "mineur non accompagne", "mineurs non accompagnes", "unaccompanied minor", "unaccompanied minors", unaccompanied, mineur, mineurs, accompagnement, malvoyant, aveugle, blind, sourd, deaf, assistance, accessible, accessibles, accessibilite, accessibility, ascenseur, ascenseurs, lift, lifts, elevator, elevators, rampe, ramp, "step free"
rebook: decaler, decale, rebook, rebooking, reschedule, rescheduled, "changer de vol", "changer mon vol", "change my flight", "change flight", "modifier mon vol", "changer la date", "change the date", "changer mon billet", "modifier mon billet", "change my ticket", postpone, postponed
checkin: enregistrement, enregistrer, enregistre, "check in", checkin, embarquement, embarquer, boarding, "carte d'embarquement", "boarding pass", "boarding card", "check out", checkout, "late check out", "late checkout"
takeaway: emporter, "a emporter", "sur place", takeaway, "take away", takeout, "take out", "click and collect", "click collect", pickup, "pick up"
event: evenement, evenements, event, events, privatiser, privatisation, privatise, privatisee, "private hire", prive, privee, prives, privees, private, seminaire, seminaires, seminar, host, hosting, groupe, groupes, group, groups, animation, animations, agenda
menu: menu, menus, "plat du jour", "plats du jour", "menu du jour", "menu enfant", "menus enfants", "kids menu", "carte des vins", "wine list", formule, formules, "dish of the day"
network: reseau, reseaux, network, networks, "signal faible", "weak signal", "bad signal", "signal reseau", couverture, coverage, capte, capter, captent, antenne, antennes
internet: "box fibre", "box internet", "offre fibre", internet, box, wifi, "wi fi", modem, routeur, router, adsl, vdsl, broadband
fibre: fibre, fibres, fiber, ftth, "fibre optique", eligible, eligibilite, eligibility, raccordement, raccorder, raccorde, technicien, technicienne, technician, "mise en service"
sim: sim, esim, "e sim", "carte sim", "sim card", puk
porting: portabilite, rio, "code rio", "garder mon numero", "conserver mon numero", "keep my number", "port my number", "keep my old number"
operator: operateur, operateurs, operator, operators, carrier, carriers, provider, providers, fournisseur, fai
roaming: roaming, itinerance, "hors europe", "outside europe"
data: data, "donnees mobiles", gigas, giga, "internet mobile"
urgent: urgence, urgences, urgent, urgente, urgents, emergency, emergencies, "de garde", "service de garde", "out of hours", "after hours", "24h 24", "24 7"
document: document, documents, papier, papiers, justificatif, justificatifs, "piece justificative", "pieces justificatives", paperwork, "proof of address", "justificatif de domicile", dossier, dossiers
licence: "permis de conduire", "driving licence", "driving license", "driver's license", "drivers license", licence, license, licences, licenses
deposit: caution, cautions, "depot de garantie", deposit, deposits, "security deposit", acompte, acomptes, arrhes, "down payment", preautorisation, "pre authorisation", "pre authorization"
insurance: assurance, assurances, assure, assuree, assurer, insurance, insured, insure, insurer, sinistre, sinistres, franchise, excess, deductible, "rachat de franchise", "tous risques", "fully comprehensive", mutuelle
breakdown: accident, accidents, accrochage, accroche, collision, crevaison, creve, crevee, "flat tyre", "flat tire", "puncture", "broke down", "broken down", "breakdown", "ne demarre", demarre, "won't start", "wont start", constat, "constat amiable", depanneuse, "tow truck", remorquage, rayure, raye, rayee, scratch, scratched
fuel: carburant, essence, gasoil, diesel, gazole, "faire le plein", reservoir, fuel, petrol, gas, tank, refuel, refill, "borne de recharge", charging
vehicle: voiture, voitures, vehicule, vehicules, auto, autos, car, cars, vehicle, vehicles, van, vans, utilitaire, utilitaires, camion, camions, camionnette, truck, trucks, citadine, suv, minibus, moto, motos, motorbike
animal: chienne, chiennes, chatte, chattes, chatons, kittens, puppies, lapine, hamster, hamsters, cobaye, cobayes, "cochon d'inde", "cochons d'inde", "guinea pig", "guinea pigs", furet, furets, ferret, ferrets, rongeur, rongeurs, rodent, rodents, oiseau, oiseaux, bird, birds, perroquet, perroquets, parrot, parrots, perruche, perruches, tortue, tortues, turtle, turtles, tortoise, tortoises, reptile, reptiles, serpent, serpents, snake, snakes, lezard, lezards, lizard, lizards, nac, "nouveaux animaux de compagnie", exotique, exotiques, exotic, cheval, chevaux, horse, horses, poney, chevre, poule, poules
treat: soigner, soignez, soigne, soignent, soin, soins, treat, treats, treated, treatment, veterinaire, veterinaires, veto, vetos, vet, vets, docteur, docteurs, doctor, doctors, medecin, medecins, malade, malades, ausculter, examiner, "check up", checkup, bilan
vaccine: vaccin, vaccins, vacciner, vaccine, vaccines, vaccination, vaccinations, vaccinate, vaccinated, rappel, rappels, booster, boosters, jab, jabs, rabies, vermifuge, "anti puces", flea, fleas, deworming
minage: "age minimum", "minimum age", "how old", "quel age", "age requis", "age limit", "jeune conducteur", "jeunes conducteurs", "young driver", "young drivers", majeur, majeure, underage, "under 18", "under 21", "under 25", "moins de 18", "moins de 21", "moins de 25"
lang: anglais, english, francais, french, espagnol, spanish, allemand, german, italien, italian, langue, langues, language, languages, bilingue, bilingual, anglophone, francophone
reply: reponse, reponses, repondre, repondu, repondez, repond, reply, replies, replied, "heard back", "hear back", "heard nothing", nouvelles
penalty: amende, amendes, contravention, contraventions, pv, penalite, penalites, penalty, penalties, "late fee", "late fees", "frais de retard"
install: installation, installations, installer, install, installed, installing, assemble, assembled, assembly, assembling, montage
deadline: "date limite", "dates limites", deadline, deadlines, "dernier delai", "closing date", cloture, "last day"
requirement: conditions, condition, critere, criteres, prerequis, requis, requise, requises, requirement, requirements, prerequisite, prerequisites, selection
visit: visite, visites, visiter, visitez, visit, visits, visiting, "journee portes ouvertes", "journees portes ouvertes", "portes ouvertes", "porte ouverte", "open day", "open days", "open house"
included: inclus, incluse, included, include, includes, including
valid: valable, valables, validite, valid, validity
blocked: bloque, bloquee, bloques, bloquees, bloquer, blocked, locked, "locked out"
renew: renouveler, renouvelle, renouvellement, renouvellements, prolonger, prolonge, prolongation, prolongations, extend, extension, extended, renew, renewal, renewed, renewing
grant: "aides", financial, funding, financement, financements, financer, "aide financiere", "aides financieres", "aide de l'etat", "aides de l'etat", subvention, subventions, subventionne, prime, primes, "credit d'impot", "tax credit", grant, grants, subsidy, subsidies, subsidised, subsidized, "financial help", "financial aid", "financial support", maprimerenov, "eco ptz", "cheque energie"
save: worth, economie, economies, economiser, economise, economisez, savings, rentable, rentabilite, rentabiliser, rentabilise, amortir, amorti, amortissement, payback, "pay back", "pays back", "pay for itself", "pays for itself", "worth it", "vaut le coup", "retour sur investissement", roi
wear: tenue, tenues, habiller, habille, "dress code", dresscode, outfit, outfits, attire
lineup: programmation, programmations, prog, "line up", lineup, "tete d'affiche", "tetes d'affiche", affiche, headliner, headliners, headline, headlining, artiste, artistes, artist, artists, "qui joue", "who's playing", "who is playing", "horaires de passage", "stage times", "set times"
missed: rattraper, rattrapage, rattrape, rattrapes, "make up", "make it up", missed, absent, absente, absents, absentes, absence, absences
show: spectacle, spectacles, gala, galas, recital, recitals, representation, representations, "fin d'annee", "end of year", "end of term"
upkeep: entretien, entretiens, entretenir, entretient, nettoyer, nettoyage, nettoie, laver, lavage, cleaning, "service annuel", "annual service", detartrage, detartrer, descale, descaling
allowed: entitled, accepte, acceptes, acceptee, acceptees, acceptez, accept, accepted, accepts, allowed, autorise, autorisee, autorises, autorisees, permitted, interdit, interdits, forbidden, droit
`

// contextConcepts say when, where or what, never which question: "how was
// your weekend?" and "quelle heure il est ?" ask the brand nothing, so a
// message whose known words are only these is not answered.
var contextConcepts = map[string]bool{
	"~day": true, "~time": true, "~city": true, "~delay": true, "~abroad": true, "~where": true,
	"~card": true, "~free": true, "~app": true, "~account": true,
	"~change": true, "~signup": true, "~device": true, "~part": true, "~audience": true,
	"~transport": true, "~next": true, "~belongings": true, "~allowed": true,
	"~cabin": true, "~vehicle": true, "~animal": true,
}

// contextWeight is how much a context concept weighs against a word that says
// which question is asked.
const contextWeight = 0.5

// praise, thanks, complaints and insults make a message that is no question a remark, even
// when it names delivery: "livraison rapide, top", "fast shipping, thanks!".
var remarkWords = set(`
	merci thanks thank thx top super genial geniale parfait parfaite nickel bravo
	excellent excellente great awesome amazing love adore perfect cool rapide fast
	quick vite recommande recommend meilleur meilleure meilleurs best magnifique
	beau belle belles beaux incroyable delicieux delicieuse
	nul nulle con cons trash worst pire honte shame
	desagreable desagreables impoli impolie impolis rude lent lente lents lentes
	decevant decevante decu decue disappointing disappointed horrible terrible
	abuse abuses abusee abusees abusif abusifs abusive exorbitant exorbitants
	aimable aimables accueillant accueillante accueillants souriant souriante souriants
	adorable adorables gentil gentille gentils gentilles serviable serviables charmant charmante
	lovely friendly helpful arrogant arrogante arrogants arrogantes
	joke blague
	lol mdr ptdr xd haha hahaha lmao`, insultList)

// laughter is a remark, unless the writer names their own order.
var laughter = set(`lol mdr ptdr xd haha hahaha lmao`)

// insultWords insult the brand or its staff: a message that says one is
// neither a question to answer nor a remark to leave alone, but one for the
// CMs ("vous recrutez des incompétents ou quoi ?", "still no parcel, you
// thieves").
var insultWords = set(insultList)

const insultList = `
	nuls merde connard connards idiot idiots stupide stupid suck sucks voleur voleurs
	escroc escrocs incompetent incompetents lamentable minable pourri pourris incapable
	incapables thief thieves scammer scammers arnaqueur arnaqueurs ripoff escroquerie
	scandale scandaleux scandaleuse honteux honteuse inadmissible inacceptable
	unacceptable ridicule ridiculous pathetic pathetique useless clown clowns guignol
	guignols bouffon bouffons degueulasse incompetence`

// problemConcepts make a request of a message that is no question: "carte
// perdue", "mot de passe oublié", "le jeu crash".
var problemConcepts = map[string]bool{
	"~lost": true, "~receive": true, "~forgot": true, "~bug": true, "~server": true, "~hacked": true,
	"~damaged": true, "~refund": true, "~cancel": true, "~password": true, "~login": true,
	"~late": true, "~disruption": true, "~blocked": true, "~repair": true, "~urgent": true, "~breakdown": true,
	"~notworking": true,
}

// intents are the questions customer service is asked: each a line with its
// name, a colon, then wordings separated by bars, French and English.
const intents = `
hours: quels sont vos horaires d'ouverture | vous etes ouverts le dimanche | a quelle heure vous fermez | a quelle heure ouvre le magasin | c'est ouvert aujourd'hui | vous ouvrez le samedi matin | vous fermez les jours feries | ouvert entre midi et deux | ca ferme a quelle heure ce soir | what are your opening hours | are you open on sunday | what time do you close | when do you open tomorrow | are you open on bank holidays | opening times please
delivery: combien de temps pour la livraison | quel est le delai de livraison | vous livrez a l'etranger | vous livrez en belgique | combien coutent les frais de livraison | frais de port | la livraison est gratuite | livraison express possible | expedition sous combien de jours | how long does delivery take | do you ship internationally | do you deliver to the uk | how much is shipping | is delivery free | express shipping
returns: comment retourner un article | le retour est gratuit | je veux renvoyer ma commande | combien de jours pour un retour | politique de retour | how do i return an item | what is your return policy | can i send it back | are returns free
refund: comment etre rembourse | je veux un remboursement | delai de remboursement | je n'ai pas ete rembourse | can i get a refund | i want my money back | how long does the refund take | refund my order
exchange: je veux echanger une taille | echanger un cadeau | echanger contre une autre couleur | comment faire un echange en magasin | can i swap it for another colour | exchange a gift | faire un echange | echanger contre une autre taille | can i exchange for another size | exchange an item | swap for a different size
sizes: quelle taille prendre | vous avez la taille au dessus | ca taille petit | guide des pointures | c'est grand ou petit | which size am i | do you have it in a bigger size | true to size | size conversion | guide des tailles | ca taille grand | quelle pointure choisir | size guide | what size should i take | does it fit small | size chart
tracking: ou en est ma commande | suivi de commande | numero de suivi | comment suivre mon colis | where is my order | how do i track my order | tracking number | order status
not_received: je n'ai pas recu mon colis | ma commande est en retard | le livreur n'est jamais passe | colis marque livre mais rien recu | j'attends toujours ma commande | my order is late | the parcel says delivered but i have nothing | where is my package it should have arrived | ma commande n'est pas arrivee | colis perdu | mon colis est bloque | toujours rien recu | i haven't received my order | my package never arrived | my parcel is lost | order not delivered | still waiting for my order
contact: comment vous contacter | quel est votre numero de telephone | votre adresse mail | comment joindre le service client | je peux vous appeler | je voudrais parler a quelqu'un | how can i contact you | what is your phone number | email address | how do i reach customer service | can i call you | is there a live chat | i want to talk to a human
jobs: vous recrutez | vous recrutez des serveurs | on recherche un cuisinier | vous avez des offres d'emploi | comment postuler | ou envoyer ma candidature | je cherche un stage | vous prenez des alternants | je voudrais travailler chez vous | are you hiring | any job openings | how do i apply | where can i send my cv | do you offer internships | can i work for you
prices: combien ca coute | c'est combien | combien pour | a partir de combien | vos prix | grille tarifaire | faire un devis | devis gratuit | c'est payant | how much is it | how much for | what are your prices | can i get a quote | rates | quel est le prix | c'est gratuit | quels sont vos tarifs | c'est cher | how much does it cost | what's the price | is it free | price list
promotions: vous avez des promos | une reduction | tarif reduit | des remises pour les etudiants | les soldes commencent quand | do you do discounts | any offers on | reduced price | sale on now | un code promo | c'est quand les soldes | reduction etudiant | des offres en ce moment | any discount | do you have a promo code | when are the sales | student discount | any deals right now
loyalty: carte de fidelite | programme de fidelite | points de fidelite | parrainage | cumuler des miles | depenser mes miles | loyalty card | loyalty program | reward points | referral program | frequent flyer | my miles balance
payment: quels moyens de paiement | vous prenez la carte | payer par cheque | paiement en trois fois | vous acceptez les especes | pay in instalments | do you take cheques | which cards do you accept | can i pay with my phone | payer par carte | paiement en plusieurs fois | vous acceptez paypal | payer en especes | paiement sans contact | tickets restaurant acceptes | payment methods | can i pay by card | do you accept paypal | can i pay cash | do you take apple pay
stock: c'est en stock | il en reste | vous l'avez en magasin | disponible en boutique | ca revient quand | vous allez en recevoir | do you have it in store | any left | will you restock | is it available in my size | c'est disponible en taille 42 | quand revient en stock | rupture de stock | is it in stock | when will it be back in stock | sold out | is it available
stores: ou sont vos magasins | ou etes vous situes | quelle est votre adresse | comment venir chez vous | vous etes dans quel quartier | liste des magasins | what is your address | how do i get to the store | is there a branch near me | list of your shops | adresse de la boutique | magasin le plus proche | vous avez une boutique a paris | ou vous trouver | where are your stores | store near me | shop address | do you have a shop in london | where are you located
account: creer un compte | acceder a mon compte | mon compte est bloque | changer mes informations | my account is locked | how do i access my account | change my details | modifier mon compte | supprimer mon compte | changer mon adresse mail | mon compte a ete pirate | create an account | delete my account | change my email | my account was hacked | update my profile
password: mot de passe oublie | mot de passe incorrect | je ne recois pas le mail de reinitialisation | changer mon mot de passe | identifiant oublie | wrong password | password reset link not working | change my password | i can't sign in | reinitialiser mon mot de passe | je n'arrive pas a me connecter | impossible de me connecter | forgot my password | reset my password | i can't log in | login problem
cancel: annuler ma commande | annuler mon abonnement | resilier mon abonnement | resilier mon contrat | comment se desabonner | suspendre mon abonnement | mettre fin a mon contrat | cancel my order | cancel my subscription | cancel my membership | end my contract | unsubscribe | pause my membership
damaged: article defectueux | recu casse | produit abime | mauvais article recu | item arrived damaged | broken product | defective item | wrong item received
warranty: garantie | le produit est garanti | reparation sous garantie | c'est garanti combien de temps | duree de la garantie | warranty | is it under warranty | how long is the warranty | is it guaranteed
invoice: je voudrais ma facture | une facture svp | ticket de caisse | telecharger ma facture | ma facture est trop elevee | erreur sur ma facture | je ne comprends pas ma facture | montant preleve | i need an invoice | send me the receipt | download my bill | my bill is wrong | why is my bill so high | extra charges on my bill | billing error
giftcard: carte cadeau | bon d'achat | bon cadeau | offrir une carte cadeau | utiliser ma carte cadeau | solde de ma carte cadeau | validite de la carte cadeau | gift card | gift voucher | use my gift card | balance on my gift card | buy a gift card
bugs: le jeu crash | signaler un bug | ca ne marche pas | l'appli bug | ecran noir au lancement | ca plante | report a bug | the game crashes | the app is not working | it keeps freezing | error message | black screen
servers: serveur down | le serveur est en maintenance | c'est en panne | je n'arrive pas a me connecter au serveur | servers down | is it down | outage | server status | can't connect to the server | maintenance today
release: date de sortie | ca sort quand | quand sort le jeu | when does it come out | release date | launch date | is it out yet
platforms: sur quelle plateforme | dispo sur ps5 | version switch | sur pc | which platforms | is it on xbox | mobile version | available on steam | is it on mac
open_account: ouvrir un compte | devenir client | documents pour ouvrir un compte | ouvrir un compte joint | open an account | become a customer | documents to open an account
lost_card: carte perdue | carte volee | faire opposition | bloquer ma carte | j'ai perdu ma carte bancaire | lost card | stolen card | block my card | i lost my card
loans: faire un pret | credit immobilier | emprunter de l'argent | taux de credit | credit conso | loan | mortgage | borrow money | interest rate | car loan
transfers: faire un virement | virement international | delai d'un virement | virement instantane | bank transfer | send money abroad | wire transfer | how long does a transfer take | instant transfer
booking: prendre rendez-vous | reserver | faire une reservation | reserver un creneau | sans rendez-vous | precommander | book an appointment | make a booking | reserve | book a slot | do i need to book | pre-order
id_documents: carte d'identite | refaire mon passeport | renouveler ma carte d'identite | delai passeport | rendez-vous passeport | id card | renew my passport | new passport | lost my id card
waste: collecte des poubelles | jour de ramassage | encombrants | dechetterie | dechets verts | bin collection | rubbish collection | recycling | bulky waste
school: inscription a l'ecole | inscription cantine | periscolaire | inscrire mon enfant | menu de la cantine | school registration | enrol my child at school | school meals
parking: stationnement | ou se garer | parking gratuit | carte de stationnement resident | amende de stationnement | parking | where can i park | parking permit | parking fine | is parking free
subscription: prendre un abonnement | tarif de l'abonnement | abonnement mensuel | abonnement annuel | abonnement etudiant | formules d'abonnement | s'abonner | renouveler mon abonnement | membership fees | monthly membership | how do i subscribe | subscription plans | renew my subscription | annual pass
trial: seance d'essai | essai gratuit | cours d'essai | seance decouverte | essayer avant de s'inscrire | free trial | trial session | trial period | is there a trial
classes: planning des cours | quels cours proposez vous | reserver un cours | s'inscrire a un cours | il reste des places au cours | horaires des cours | cours collectifs | class schedule | what classes do you offer | book a class | sign up for a class | is the class full | class timetable
timetables: horaires des bus | a quelle heure passe le prochain bus | le dernier train part a quelle heure | premier bus du matin | frequence de la ligne | train times | when is the next bus | what time is the last train | how often does the bus run | first train in the morning
tickets: prix d'un billet | combien coute le ticket | ou acheter un billet | acheter un ticket a bord | billet aller retour | carnet de tickets | duree de validite du ticket | ticket price | how much is a ticket | where can i buy a ticket | can i buy a ticket on board | single fare | is my ticket still valid
disruptions: info trafic | perturbations sur la ligne | le bus est en retard | le train est annule | greve aujourd'hui | travaux sur la ligne | ligne interrompue | is there a strike | service disruption | the train is late | bus cancelled | delays on the line | are the trains running
lost_property: objets trouves | j'ai perdu un objet dans le bus | j'ai oublie mes affaires dans le train | quelqu'un a retrouve mon sac | recuperer un objet perdu | lost property | lost and found | i left something on the bus | i lost my bag on the train | has anyone found a wallet
on_board: velo dans le train | les chiens sont acceptes | poussette dans le bus | bagages autorises | trottinette a bord | bikes on trains | can i bring my dog | are pets allowed | luggage allowed on board | can i take a stroller on the bus
turnaround: combien de temps ca prend | en combien de temps c'est fait | delai de reparation | le jour meme | c'est pret quand | pendant que j'attends | how long does it take | how long will the repair take | same day service | when will it be ready | while you wait
second_hand: produits reconditionnes | appareil d'occasion | vous rachetez les anciens appareils | reprise de mon ancien appareil | seconde main | refurbished devices | second hand | do you buy old devices | trade in my old device | pre-owned
takeaway: a emporter | commander a emporter | vente a emporter | click and collect | retrait de la commande | take away | takeaway order | order for pickup | can i pick up my order | takeout
events: privatiser la salle | privatiser le restaurant | organiser un evenement | evenement prive | menu de groupe | reserver pour un groupe | repas d'entreprise | seminaire | private hire | private event | group booking | can you host a private event | a large group
menu: voir la carte | le menu du jour | plat du jour | menu enfant | menu du midi | la carte des vins | what's on the menu | can i see the menu | kids menu | lunch menu | drinks menu | set menu | dish of the day
baggage: franchise bagages | combien de bagages | poids maximum de la valise | taille du bagage cabine | bagage en soute | bagage supplementaire | poussette et siege auto | baggage allowance | carry on size | hand luggage dimensions | checked bag | extra bag | weight limit | can i bring a stroller
checkin: enregistrement en ligne | comment m'enregistrer | quand ouvre l'enregistrement | carte d'embarquement | imprimer ma carte d'embarquement | impossible de m'enregistrer | enregistrement a l'aeroport | online check in | when does check in open | boarding pass | print my boarding pass | check in at the airport | i can't check in
rebook: changer mon vol | modifier mon vol | changer la date de mon billet | decaler mon vol | frais pour modifier un vol | changer de vol | corriger le nom sur mon billet | change my flight | rebook my flight | change the date of my ticket | correct the name on my booking | switch flights
compensation: indemnisation pour un retard | j'ai droit a une indemnisation | reclamer une indemnisation | dedommagement pour un vol retarde | indemnisation d'un vol | compensation for a delay | am i entitled to compensation | delay compensation claim | flight compensation | claim compensation
lost_luggage: ma valise n'est pas arrivee | bagage perdu | valise perdue | bagage endommage | valise abimee | reclamation bagage | mon bagage n'est pas sur le tapis | lost luggage | my bag didn't arrive | my suitcase is missing | damaged luggage | delayed baggage | baggage claim
pets: voyager avec mon chien | voyager avec un animal | animaux en cabine | mon chat peut voyager | transport d'animaux | animal de compagnie | can i travel with my dog | pets in the cabin | pet policy | can i bring my cat | travelling with a pet
assistance: assistance pmr | personne a mobilite reduite | fauteuil roulant a l'aeroport | aide pour une personne agee | mineur non accompagne | enfant qui voyage seul | assistance speciale | wheelchair assistance | reduced mobility | unaccompanied minor | help for a disabled passenger | special assistance | child travelling alone
phone_plans: quels sont vos forfaits | forfait mobile | quel forfait choisir | offre box internet | prix de la box | forfait avec plus de data | mobile plans | which plan should i choose | home internet plans | sim only plan
coverage: est ce que ca capte chez moi | couverture reseau | carte de couverture | reseau faible | reseau faible dans ma ville | signal faible | network coverage | coverage map | weak signal at home | do you have coverage in my town | bad reception
outage: panne internet | internet coupe | un incident sur le reseau | panne de reseau | plus d'internet | coupure de la fibre | no internet | my internet is down | network outage | no signal | internet outage | broadband down
sim: activer ma carte sim | ma carte sim est bloquee | commander une esim | remplacer ma carte sim | carte sim perdue | code puk | activate my sim | get an esim | my sim card is blocked | lost my sim card | replacement sim card
porting: garder mon numero | code rio | portabilite du numero | changer d'operateur en gardant mon numero | transferer mon numero | keep my number | port my number | transfer my number to you | keep my old number when switching
roaming: mon forfait a l'etranger | utiliser mon telephone a l'etranger | itinerance | appeler depuis l'etranger | internet a l'etranger | je pars en voyage hors europe | roaming | use my phone abroad | roaming charges | mobile data abroad | calls from abroad | does my plan work outside europe
fibre: verifier mon eligibilite a la fibre | je suis eligible a la fibre | quand la fibre arrive chez moi | installation de la fibre | rendez-vous avec le technicien | raccordement a la fibre | can i get fibre at home | fibre eligibility | when will fiber be installed | technician appointment | fiber installation date
change_booking: modifier ma reservation | changer les dates de ma reservation | decaler mon rendez vous | changer l'heure de ma reservation | reporter ma reservation | change my booking | change the dates of my reservation | reschedule my appointment | modify my reservation | move my booking to another day
appointment_walkin: sans rendez vous | je peux passer sans rendez vous | il reste un creneau demain | vous avez de la place cette semaine | prendre une consultation | avoir un rendez vous rapidement | premier creneau disponible | can i walk in | do i need an appointment | any slots available this week | earliest appointment | can i come in today | book a consultation
emergency: en cas d'urgence | c'est urgent | numero d'urgence | service d'urgence la nuit | urgences le week end | qui appeler en urgence | vous etes de garde | emergency number | it's an emergency | who do i call in an emergency | emergency out of hours | is there an emergency service at night | urgent help
documents: quels documents fournir | quels papiers faut il | pieces justificatives | il faut quoi comme papiers | documents a apporter | justificatif de domicile | permis de conduire | permis etranger accepte | what documents do i need | which documents should i bring | what id do i need | proof of address | is a foreign licence accepted | driving licence required
age_limit: age minimum | a partir de quel age | je peux le faire a 18 ans | il faut avoir quel age | jeune conducteur | frais jeune conducteur | limite d'age | minimum age | how old do i have to be | is there an age limit | under 18 | young driver fee | can i do it at 17
deposit: montant de la caution | c'est combien la caution | quand est rendue la caution | remboursement de la caution | depot de garantie | faut il verser un acompte | how much is the deposit | security deposit | when do i get my deposit back | is a deposit required | deposit refund
insurance: l'assurance est comprise | que couvre l'assurance | montant de la franchise | rachat de franchise | assurance tous risques | je suis assure | is insurance included | what does the insurance cover | how much is the excess | reduce the excess | am i insured | full coverage insurance
breakdown: j'ai eu un accident | la voiture est en panne | que faire en cas d'accident | un accrochage | crevaison | la voiture ne demarre pas | faire un constat | assistance en cas de panne | i had an accident | the car broke down | what do i do after an accident | flat tyre | the car won't start | breakdown assistance
fuel: faire le plein | rendre avec le plein | politique carburant | le reservoir doit etre plein | essence ou diesel | recharger une voiture electrique | return with a full tank | fuel policy | do i need to refuel | what fuel does it take | charge the electric car
vet_care: vous soignez les chats | vous soignez les lapins | vous prenez les nac | veterinaire pour animaux exotiques | vous soignez les oiseaux | do you treat rabbits | do you see exotic pets | vet for reptiles | do you treat birds | can you see my hamster
vaccines: vaccins de mon chiot | rappel de vaccin | a quel age vacciner | vaccin contre la rage | carnet de vaccination | vermifuge | vaccination schedule | booster shot | which vaccines does my puppy need | rabies vaccine | when is the next booster | flea treatment
grants: il y a des aides | quelles aides existent | des subventions | on a droit a une prime | credit d'impot | aides de l'etat | on a droit a quelle aide | tva reduite | are there any grants | government grants | financial help | subsidies | tax credit | is it subsidised
savings: je vais economiser combien | c'est rentable | rentabiliser l'installation | retour sur investissement | ca vaut le coup | how much will i save | is it worth it | payback period | savings on my bill
dress_code: quelle tenue | comment s'habiller | tenue obligatoire | quoi mettre pour venir | dress code | what should i wear | what to wear | is there a dress code | what clothes
lineup: programmation | qui joue ce soir | les artistes | tete d'affiche | quand sort la programmation | horaires de passage | lineup | who is playing | who's headlining | when is the lineup announced | stage times
missed_session: rattraper un cours | cours manque | prevenir d'une absence | mon enfant sera absent | rattrapage d'une seance | make up a missed class | missed a session | my child will be absent | can i make it up
shows: date du spectacle | le gala c'est quand | places pour le spectacle | spectacle de fin d'annee | when is the show | tickets for the recital | end of year show
upkeep: comment entretenir | il faut un entretien | entretien annuel | faut il nettoyer | comment le nettoyer | on peut le laver | how do i clean it | does it need maintenance | how to look after it | cleaning instructions
availability: vous avez des disponibilites | il reste de la place | des places disponibles | c'est complet | any availability | is it fully booked | are there places left | do you have space
deadline: quelle est la date limite | date limite d'inscription | dernier delai pour s'inscrire | c'est quand la cloture des inscriptions | when is the deadline | what is the last day to apply | closing date for applications | is it too late to register
requirements: quelles sont les conditions | conditions d'acces | criteres d'admission | les prerequis | qui peut s'inscrire | what are the requirements | entry requirements | who can apply | prerequisites | what do i need to be accepted
accessibility: c'est accessible en fauteuil roulant | acces pmr | accessible aux personnes handicapees | il y a un ascenseur | acces handicape | is it wheelchair accessible | disabled access | is there a lift | step free access | accessible toilets
wifi: il y a le wifi | wifi gratuit | code wifi | mot de passe du wifi | le wifi ne marche pas | is there wifi | free wifi | wifi password | the wifi is not working
language: vous parlez anglais | c'est en anglais | en francais ou en anglais | dans quelle langue | do you speak english | is it in english | in which language | english speaking staff
request_status: toujours pas de reponse | j'ai pas eu de reponse | quand aurai je une reponse | reponse a ma demande | i haven't heard back | still no reply | when will i get an answer | no answer yet | reply to my request
allergens: sans gluten | liste des allergenes | c'est vegan | sans lactose | allergie aux noix | plats vegetariens | options vegetariennes | gluten free | allergens | is it vegan | nut allergy | dairy free | vegetarian options
`

// families are intents close enough that an entry answering one answers the
// others when no entry of the FAQ asks them: a shop's returns entry is where an
// exchange or a refund is explained.
var families = [][]string{
	{"returns", "refund", "exchange", "damaged"},
	{"tracking", "not_received"},
	{"promotions", "loyalty", "giftcard"},
	{"account", "password"},
	{"bugs", "servers"},
	{"subscription", "phone_plans"},
	{"contact", "booking"},
	{"cancel", "change_booking"},
}

// familyOf names an intent's family: its first member, or the intent itself.
func familyOf(name string) string {
	for _, fam := range families {
		if slices.Contains(fam, name) {
			return fam[0]
		}
	}
	return name
}

// intent is one intent of the lexicon and its wordings.
type intent struct {
	name     string
	wordings []string
}

// parseConcepts reads concepts into groups of words, each group's term first:
// the term is the concept's name behind a character no message can carry, so
// it never meets a word.
func parseConcepts(src string) [][]string {
	var out [][]string
	for _, line := range strings.Split(src, "\n") {
		name, words, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		group := []string{}
		for _, w := range strings.Split(words, ",") {
			w = strings.Trim(strings.TrimSpace(w), `"`)
			if w != "" {
				group = append(group, w)
			}
		}
		out = append(out, append([]string{conceptTerm(name)}, group...))
	}
	return out
}

// conceptTerm is the term a concept's words are read as.
func conceptTerm(name string) string { return "~" + strings.TrimSpace(name) }

func parseIntents(src string) []intent {
	var out []intent
	for _, line := range strings.Split(src, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		in := intent{name: strings.TrimSpace(name)}
		for _, w := range strings.Split(rest, "|") {
			if w = strings.TrimSpace(w); w != "" {
				in.wordings = append(in.wordings, w)
			}
		}
		out = append(out, in)
	}
	return out
}

// IntentNames lists the intents an entry may name with intent:.
func IntentNames() []string {
	var names []string
	for _, in := range parseIntents(intents) {
		names = append(names, in.name)
	}
	sort.Strings(names)
	return names
}

// intentVote is the score from which an example is taken to ask an intent.
const intentVote = 0.5

// Inheritance is one intent an entry inherited and why: its intent: key
// names it, its examples ask it (each with the score it asks it at), or it is
// of the family of an intent the entry asks and no entry asks it.
type Inheritance struct {
	Intent string
	// Named is true when the entry's intent: key names it.
	Named bool
	// Votes are the entry's examples that ask it, with their scores.
	Votes []Vote
	// Family is the intent of its family the entry asks, when it was
	// inherited as one of that family's.
	Family string
}

// Vote is one example question that asks an intent, and how well.
type Vote struct {
	Question string
	Score    float64
}

// inheritIntents gives each entry the wordings of the intents it asks: those
// its intent: key names, and those its examples ask. An intent goes to one
// entry only, the one whose example asks it best: two entries sharing the
// wordings would split them.
func inheritIntents(entries []rules.FAQEntry, synonyms [][]string) (map[string][]string, error) {
	why, err := inheritance(entries, synonyms)
	if err != nil {
		return nil, err
	}
	wordings := map[string][]string{}
	for _, in := range parseIntents(intents) {
		wordings[in.name] = in.wordings
	}
	out := map[string][]string{}
	for id, ins := range why {
		for _, in := range ins {
			out[id] = append(out[id], wordings[in.Intent]...)
		}
	}
	return out, nil
}

// inheritance tells, entry by entry, which intents each inherits and why, in
// the lexicon's order.
func inheritance(entries []rules.FAQEntry, synonyms [][]string) (map[string][]Inheritance, error) {
	all := parseIntents(intents)
	byName := map[string]intent{}
	// The file's synonyms, so that a word it gives another meaning does not
	// vote ("serveur" is a Discord server on a gaming FAQ).
	cfg := Config{Synonyms: synonyms}
	for _, in := range all {
		byName[in.name] = in
		cfg.Entries = append(cfg.Entries, rules.FAQEntry{ID: in.name, Questions: in.wordings, Answer: map[string]string{"": in.name}})
	}
	tune := defaultTuning
	tune.alone = true
	im, err := newMatcher(cfg, tune)
	if err != nil {
		return nil, fmt.Errorf("faq lexicon: %w", err)
	}
	type claim struct {
		entry  string
		score  float64 // the sum of the votes
		named  bool
		votes  []Vote
		family string
	}
	best := map[string]claim{}
	for _, e := range entries {
		for _, name := range e.Intents {
			if _, ok := byName[name]; !ok {
				return nil, &entryError{e, fmt.Sprintf("faq entry %q: unknown intent %q (known: %s)", e.ID, name, strings.Join(IntentNames(), ", "))}
			}
			best[name] = claim{entry: e.ID, score: 2, named: true} // named: above any example's score
		}
	}
	// An entry asks an intent when a third of its examples or more ask it
	// or its family; an intent asked by two entries goes to the one whose
	// votes weigh more.
	for _, e := range entries {
		votes := map[string]float64{}
		voters := map[string][]Vote{}
		count := map[string]int{}
		for _, q := range e.Questions {
			c, ok := im.matchKnown(q)
			if !ok || c.Score < intentVote {
				continue
			}
			votes[c.ID] += c.Score
			voters[c.ID] = append(voters[c.ID], Vote{q, c.Score})
			count[familyOf(c.ID)]++
		}
		for name, v := range votes {
			if 3*count[familyOf(name)] < len(e.Questions) {
				continue
			}
			if b, ok := best[name]; !ok || v > b.score {
				best[name] = claim{entry: e.ID, score: v, votes: voters[name]}
			}
		}
	}
	for _, fam := range families {
		var owner claim
		var ownerName string
		for _, name := range fam {
			if b, ok := best[name]; ok && b.score > owner.score {
				owner, ownerName = b, name
			}
		}
		for _, name := range fam {
			if _, ok := best[name]; !ok && owner.entry != "" {
				best[name] = claim{entry: owner.entry, family: ownerName}
			}
		}
	}
	out := map[string][]Inheritance{}
	for _, in := range all {
		if b, ok := best[in.name]; ok {
			out[b.entry] = append(out[b.entry], Inheritance{Intent: in.name, Named: b.named, Votes: b.votes, Family: b.family})
		}
	}
	return out, nil
}

// EntryIntents tells which intents each entry inherited, for vigie faq to show.
func EntryIntents(entries []rules.FAQEntry, synonyms [][]string) (map[string][]string, error) {
	why, err := inheritance(entries, synonyms)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for id, ins := range why {
		for _, in := range ins {
			out[id] = append(out[id], in.Intent)
		}
	}
	return out, nil
}

// EntryInheritance tells which intents each entry inherited and why, for
// vigie faq --learned to show a CM what an entry answers beyond its examples.
func EntryInheritance(entries []rules.FAQEntry, synonyms [][]string) (map[string][]Inheritance, error) {
	return inheritance(entries, synonyms)
}
